"""Ledger formats: each page's truth says what its format prints, exactly as drawn."""

from __future__ import annotations

import re
from functools import cache
from itertools import pairwise

import numpy as np
import pytest

from ocrmp.corpus import FORMATS, LedgerPage, index_page, ledger_page
from ocrmp.corpus.fonts import font
from ocrmp.corpus.layout import font_px, page_shape
from ocrmp.corpus.table import table_for
from ocrmp.corpus.text import CLOSED_NATURES, NATURES, NATURES_EN

DPI = 150
TYPED = sorted(name for name, fmt in FORMATS.items() if not fmt.handwritten)
EXTRA_KEYS = {"date_iso", "nature_canonical"}  # truth that is not a column


@cache
def page(name: str, seed: int = 1, **options: object) -> LedgerPage:
    return ledger_page(seed, format=name, dpi=DPI, **options)  # type: ignore[arg-type]


@pytest.mark.parametrize("name", sorted(FORMATS))
def test_rows_have_the_keys_the_format_prints_and_no_other(name: str) -> None:
    made = page(name)
    printed = {column.key for column in FORMATS[name].columns}
    assert made.format == name and made.kind == "index" and len(made.rows) >= 3
    for row in made.rows:
        extra = {"handwritten"} if FORMATS[name].handwritten else EXTRA_KEYS
        assert printed <= set(row) <= printed | extra
    assert made.columns == tuple(column.name for column in FORMATS[name].columns)


def test_formats_print_their_own_columns() -> None:
    assert page("formulaire").columns == (
        "NOMS DES PARTIES", "TITRE DE L'ACTE", "ENREGISTREMENT / DATE", "ENREGISTREMENT / N°",
        "REMARQUES ET AVIS D'ADRESSE", "RADIATIONS")
    assert page("inscription").columns == (
        "Date de présentation", "Numéro d'inscription", "Nature de l'acte", "Qualité",
        "Nom des parties", "Remarques", "Avis d'adresse", "Radiations")
    assert page("radiation").columns == (
        "Numéro d'inscription", "Remarques", "Avis d'adresse", "Radiations")
    assert page("simple").columns == ("Date", "Nature de l'acte", "Parties", "Numéro",
                                      "Remarques")
    assert "parties" not in page("radiation").rows[0]


def test_text_reads_page_header_then_table_header_then_rows() -> None:
    made = page("formulaire", continued=True)
    lines = made.text.split("\n")
    header_lines = len(made.header) + 1  # the title, then one line per field
    assert lines[0] == "INDEX DES IMMEUBLES"
    assert all(any(value in line for line in lines[1:header_lines])
               for value in made.header.values())
    assert lines[header_lines] == ("NOMS DES PARTIES | TITRE DE L'ACTE | ENREGISTREMENT | "
                                   "REMARQUES ET AVIS D'ADRESSE | RADIATIONS")
    assert lines[header_lines + 1] == "DATE | N°"
    body = lines[header_lines + 2:]
    assert len(body) == len(made.rows)
    for line, cells in zip(body, made.cells, strict=True):
        assert line.startswith(cells["parties"].replace("\n", " "))


@pytest.mark.parametrize("name", TYPED)
def test_page_header_holds_only_the_printed_fields(name: str) -> None:
    made = page(name, continued=True)
    assert set(made.header) == ({"circonscription", "lot", "continuation"} if name == "simple"
                                else {"circonscription", "cadastre", "lot", "continuation"})
    for value in made.header.values():
        assert value in made.text
    assert "continuation" not in page(name).header
    assert re.match(r"(Suite|Rapporté|Continued|Brought)", made.header["continuation"])


def test_handwritten_register_is_flagged_and_its_cells_unread() -> None:
    made = page("manuscrit")
    assert made.handwritten and made.header == {}
    assert all(row["handwritten"] and row["parties"] is None and row["date"] is None
               for row in made.rows)
    assert made.text.split("\n")[-2:] == [
        "NOMS DES PARTIES | Nature de l'Acte | ENREGISTREMENT | Radiation | REMARQUES",
        "Date | Reg. | Vol. | N°"]  # the printed form only: the entries are not text
    ink_below_header = (made.image[len(made.image) // 3:] < 128).mean()
    assert ink_below_header > 0.005  # yet the cells are full of pen strokes


def test_inscription_lists_each_party_on_its_line_with_its_role() -> None:
    rows = page("inscription", seed=2).rows
    assert any(len(row["parties"]) > 1 for row in rows)
    for row in rows:
        assert [p["role"] for p in row["parties"]] == row["qualite"].split("\n")
        assert all(p["name"] for p in row["parties"])


def test_english_form_gives_each_side_its_role() -> None:
    roles = {p["role"] for row in page("english").rows for p in row["parties"]}
    assert roles == {"Donor, Vendor, etc.", "Donee, Purchaser, etc."}
    assert {row["nature"].replace("\n", " ") for row in page("english").rows} <= set(
        NATURES_EN.values()) | {"Power of attorney"}


def test_first_layout_names_its_parties_without_roles() -> None:
    row = page("simple").rows[0]
    assert row["parties"] and all(p["role"] is None for p in row["parties"])
    assert " à ".join(p["name"] for p in row["parties"][:2]) in page("simple").cells[0]["parties"]


@pytest.mark.parametrize("name", ["inscription", "radiation"])
def test_modern_reports_print_iso_dates_and_numbers_in_threes(name: str) -> None:
    rows = [row for seed in range(4) for row in page(name, seed=seed).rows]
    for row in rows:
        assert re.fullmatch(r"\d \d{3} \d{3}", row["numero"])
        assert "date" not in row or row["date_iso"] == row["date"]
    radiations = [r for row in rows for r in row["radiations"].split("\n") if r]
    assert any(r.startswith("T") for r in radiations)
    assert all(re.fullmatch(r"T\d+|\d \d{3} \d{3}", r) for r in radiations)


def test_older_forms_write_dates_many_ways_and_iso_only_when_certain() -> None:
    rows = [row for seed in range(6) for row in page("formulaire", seed=seed).rows]
    dates = [row["date"].replace("\n", " ") for row in rows]
    assert len({re.sub(r"\d", "9", d) for d in dates}) >= 4  # several ways of writing them
    for row, date in zip(rows, dates, strict=True):
        iso = row.get("date_iso")
        if iso is None:
            continue
        year, month, day = iso.split("-")
        assert year in date and str(int(day)) in date
        assert re.search(r"[a-zéû]", date) or int(day) > 12  # a numeric d/m/y only past 12


def test_natures_are_from_the_closed_list_unless_slips_are_asked() -> None:
    clean = [row for seed in range(6) for row in page("inscription", seed=seed).rows]
    assert all(row["nature"].replace("\n", " ") in CLOSED_NATURES for row in clean)
    assert not any("nature_canonical" in row for row in clean)
    slipped = [row for seed in range(6)
               for row in page("inscription", seed=seed, nature_slips=True).rows]
    wrong = [row for row in slipped if "nature_canonical" in row]
    assert wrong and all(row["nature"] not in CLOSED_NATURES for row in wrong)
    assert all(row["nature_canonical"] in CLOSED_NATURES for row in wrong)


def test_first_layout_keeps_its_own_short_list_of_natures() -> None:
    assert {row["nature"] for row in page("simple").rows} <= set(NATURES)


@pytest.mark.parametrize("name", TYPED)
def test_every_drawn_cell_line_fits_its_column(name: str) -> None:
    fmt, made = FORMATS[name], page(name, seed=3)
    table = table_for(fmt, DPI, page_shape(DPI, "letter", fmt.landscape)[1], 0)
    face = font(font_px(fmt.points, DPI), face=fmt.faces[0])
    multi = 0
    for cells in made.cells:
        for column, (x0, x1) in zip(fmt.columns, pairwise(table.cols_x), strict=True):
            lines = cells[column.key].split("\n")
            multi += len(lines) > 1
            assert all(face.getlength(line) <= x1 - x0 - table.pad for line in lines)
    assert name == "simple" or multi > 0  # the other formats wrap cells over lines


def _dark_columns(img: np.ndarray) -> int:
    """Columns of pixels dark over most of the table's height: vertical rules."""
    table = img[len(img) // 4: len(img) * 2 // 3]
    return int(((table < 128).mean(axis=0) > 0.9).sum())


def _dark_rows(img: np.ndarray) -> int:
    return int(((img < 128).mean(axis=1) > 0.6).sum())


def test_rules_are_absent_where_asked() -> None:
    made = {rules: page("simple", rows=25, rules=rules)
            for rules in ("full", "horizontal", "vertical", "none")}
    assert _dark_columns(made["full"].image) > 0 and _dark_rows(made["full"].image) > 25
    assert _dark_columns(made["horizontal"].image) == 0
    assert _dark_rows(made["horizontal"].image) > 25
    assert _dark_columns(made["vertical"].image) > 0
    assert _dark_rows(made["vertical"].image) <= 3 * 2  # frame top, under the header, bottom
    assert _dark_columns(made["none"].image) == 0 and _dark_rows(made["none"].image) == 0
    assert made["full"].text == made["none"].text and made["full"].rows == made["none"].rows


def _rule_rows(made: LedgerPage) -> np.ndarray:
    """The pixel rows that are horizontal rules (inked across most of the page)."""
    return made.image[(made.image < 200).mean(axis=1) > 0.6]


def test_rule_weights_from_hairline_grey_to_bold() -> None:
    hairline, normal, bold = (_rule_rows(page("simple", rows=5, rule_weight=weight))
                              for weight in ("hairline", "normal", "bold"))
    assert len(hairline) == 5 + 2  # one pixel each: header, rows, frame
    assert np.median(hairline) == 150  # and grey
    assert np.median(normal) == 40 and np.median(bold) < 40
    assert len(bold) > len(normal) > len(hairline)


def test_broken_rules_have_gaps() -> None:
    whole, broken = page("simple", rows=8), page("simple", rows=8, broken_rules=True)
    def coverage(img: np.ndarray) -> float:
        return float(((img < 128).mean(axis=1) > 0.3).sum())
    assert coverage(broken.image) < coverage(whole.image)
    assert broken.rows == whole.rows


def test_landscape_pages_are_wider_than_tall() -> None:
    assert page("english").image.shape == (round(8.5 * DPI), 11 * DPI)
    assert page("inscription", landscape=True).image.shape == (round(8.5 * DPI), 11 * DPI)
    assert page("formulaire").image.shape == (11 * DPI, round(8.5 * DPI))


def test_explicit_row_count_too_large_is_refused() -> None:
    with pytest.raises(ValueError, match="rows"):
        ledger_page(0, format="inscription", rows=200, dpi=DPI)
    with pytest.raises(ValueError, match="format"):
        ledger_page(0, format="cadastre", dpi=DPI)


def test_index_page_is_the_first_layout_with_its_cells_as_strings() -> None:
    legacy, full = index_page(4, dpi=DPI), ledger_page(4, dpi=DPI)
    assert np.array_equal(legacy.image, full.image) and legacy.text == full.text
    assert legacy.rows == full.cells and isinstance(legacy.rows[0]["parties"], str)
    assert isinstance(full.rows[0]["parties"], list)


@pytest.mark.parametrize("name", sorted(FORMATS))
def test_ledger_pages_are_pure_functions_of_the_seed(name: str) -> None:
    options = {"face": FORMATS[name].faces[-1], "colour": True, "stamps": 1, "skew_deg": 2.5}
    a, b = page(name, 5, **options), ledger_page(5, format=name, dpi=DPI, **options)
    assert np.array_equal(a.image, b.image) and a.rows == b.rows and a.text == b.text


def test_two_level_headers_on_both_sides_name_each_column_by_its_pair() -> None:
    made = page("double-entete")
    assert made.columns[:5] == (
        "NOMS DES PARTIES / Vendeurs, cédants", "NOMS DES PARTIES / Acquéreurs, cessionnaires",
        "INSCRIPTION / Date", "INSCRIPTION / N°", "INSCRIPTION / Nature")
    lines = made.text.split("\n")
    first = lines.index("NOMS DES PARTIES | INSCRIPTION | REMARQUES | RADIATIONS")
    assert lines[first + 1] == "Vendeurs, cédants | Acquéreurs, cessionnaires | Date | N° | Nature"
    sides = {party["role"] for row in made.rows for party in row["parties"]}
    assert sides == {"cédant", "cessionnaire"}


def _ruled_ys(made: LedgerPage) -> np.ndarray:
    rows = np.flatnonzero((made.image < 128).mean(axis=1) > 0.6)
    return rows[np.diff(rows, prepend=-10) > 1]  # the first pixel row of each rule


def test_an_old_printed_form_is_ruled_to_the_foot_of_the_sheet_at_its_pitch() -> None:
    made = page("formulaire-ancien", rows=4)
    ruled = _ruled_ys(made)
    pitch = np.diff(ruled)[-3:]
    assert len(ruled) > 4 + 10  # empty printed lines below the entries
    assert ruled[-1] > made.image.shape[0] - DPI  # down to the foot of the sheet
    assert len(set(pitch.tolist())) == 1  # the empty lines at one printed pitch
    assert all(step % pitch[0] == 0 for step in np.diff(ruled[1:]))


def test_an_old_printed_form_can_be_written_in_by_hand() -> None:
    made = page("formulaire-ancien", written=True)
    assert made.handwritten and all(row["handwritten"] for row in made.rows)
    assert made.header == {}
    with pytest.raises(ValueError, match="printed form"):
        ledger_page(1, format="inscription", written=True, dpi=DPI)
