"""Acte paragraphs and index tables, from words placed by hand (no engine)."""

from __future__ import annotations

import numpy as np
import pytest

from ocrmp.ocr.acte import paragraphs_text
from ocrmp.ocr.engines import Word, parse_tsv, recognition_from_words
from ocrmp.ocr.index import (
    Grid,
    clean_cell,
    columns_from_words,
    has_text,
    header_key,
    read_table,
    regroup_number,
)

H = 30  # text height in pixels


def line(texts: list[str], top: int, xs: list[int], key: tuple[int, int, int] = (1, 1, 1),
         conf: float = 90.0) -> list[Word]:
    return [Word(t, conf, x, top, 18 * len(t), H, key) for t, x in zip(texts, xs, strict=True)]


def words_at(cells: list[tuple[str, int]], top: int, key: int) -> list[Word]:
    """One table line: each cell's words start at its x, words 12 px apart."""
    out = []
    for text, x in cells:
        for word in text.split():
            out.append(Word(word, 90.0, x, top, 14 * len(word), H, (1, 1, key)))
            x += 14 * len(word) + 12
    return out


def test_paragraphs_from_wider_gaps_and_tesseract_paragraphs() -> None:
    words = (line(["Le", "vendeur"], 100, [0, 60], (1, 1, 1))
             + line(["déclare."], 145, [0], (1, 1, 2))
             + line(["Lequel"], 215, [0], (1, 1, 3))  # a gap half again as tall
             + line(["vend."], 260, [0], (1, 1, 4))
             + line(["Fin"], 305, [0], (1, 2, 1)))  # tesseract's own paragraph
    assert paragraphs_text(words) == "Le vendeur\ndéclare.\n\nLequel\nvend.\n\nFin"
    assert paragraphs_text([]) == ""


def test_tsv_and_words_give_text_and_one_confidence() -> None:
    tsv = ("level\tpage_num\tblock_num\tpar_num\tline_num\tword_num\tleft\ttop\twidth\theight"
           "\tconf\ttext\n"
           "4\t1\t1\t1\t1\t0\t10\t10\t100\t30\t-1\t\n"
           "5\t1\t1\t1\t1\t1\t10\t10\t40\t30\t96.5\tActe\n"
           "5\t1\t1\t1\t1\t2\t60\t10\t40\t30\t90.5\tde\n"
           "5\t1\t1\t1\t2\t1\t10\t50\t40\t30\t80\tvente\n"
           "5\t1\t1\t1\t2\t2\t60\t50\t40\t30\t95\t \n"
           "5\t1\t1\t2\t1\t1\t10\t90\t40\t30\t88\tFin\n")
    words = parse_tsv(tsv)
    assert [w.text for w in words] == ["Acte", "de", "vente", "Fin"]
    assert words[0].line_key == (1, 1, 1) and words[0].right == 50
    recognition = recognition_from_words(words)
    assert recognition.text == "Acte de\nvente\n\nFin"
    assert recognition.mean_confidence == pytest.approx((96.5 + 90.5 + 80 + 88) / 4)


@pytest.mark.parametrize(("cell", "key"), [
    ("Date", "date"), ("Nature de l'acte", "nature"), ("Parties", "parties"),
    ("Numéro", "numero"), ("NUMERO", "numero"), ("Remarques", "remarques"),
    ("Remarqucs", "remarques"), ("Observations", "remarques"), ("Vente", None), ("", None),
])
def test_header_cells_name_keys(cell: str, key: str | None) -> None:
    assert header_key(cell) == key


def test_numbers_regrouped_by_thousands() -> None:
    assert regroup_number("1 234567") == "1 234 567"
    assert regroup_number("1234567") == "1 234 567"
    assert regroup_number("Voir 12 34") == "Voir 1 234"
    assert regroup_number("Radiée 1995") == "Radiée 1995"


def test_cell_edges_lose_ruling_remnants_only() -> None:
    assert clean_cell("| ‘1952-09-05 :") == "1952-09-05"
    assert clean_cell("_ Roy, Thérèse à Ouellet, Marie |") == "Roy, Thérèse à Ouellet, Marie"
    assert clean_cell("| : _") == ""
    assert clean_cell("Voir 3 358") == "Voir 3 358"


def test_has_text_ignores_slivers_of_ruling() -> None:
    page = np.full((80, 300), 255, np.uint8)
    assert not has_text(page)
    page[:, 3:5] = 0  # a column line remnant
    page[40:42, :] = 0  # a row line remnant
    assert not has_text(page)
    page[25:55, 50:120] = 0  # a glyph-sized blob
    assert has_text(page)


COLS = [100, 400, 700, 1300, 1600, 1900]
HEADER = ["Date", "Nature de l'acte", "Parties", "Numéro", "Remarques"]
ROWS = [
    ["1952-09-05", "Vente", "Roy, Luc à Côté, Marie", "1 234567", "Radiée"],
    ["2001-01-02", "Bail", "Morin, Jean", "7 654 321", ""],
] * 4
EXPECTED = [
    {"date": "1952-09-05", "nature": "Vente", "parties": "Roy, Luc à Côté, Marie",
     "numero": "1 234 567", "remarques": "Radiée"},
    {"date": "2001-01-02", "nature": "Bail", "parties": "Morin, Jean",
     "numero": "7 654 321", "remarques": ""},
] * 4
GRID = Grid([190 + 80 * i for i in range(len(ROWS) + 2)], COLS)


def ledger_words(order: tuple[int, ...] = (0, 1, 2, 3, 4)) -> list[Word]:
    """A title, then the header and rows with columns in `order`, 20 px into each cell."""
    def cells(values: list[str]) -> list[tuple[str, int]]:
        return [(values[column], x + 20) for column, x in zip(order, COLS, strict=False)]

    out = words_at([("INDEX DES IMMEUBLES", 100)], 50, 1)
    for i, values in enumerate([HEADER, *ROWS]):
        out += words_at(cells(values), 210 + 80 * i, 2 + i)
    return out


def test_table_from_ruling_grid() -> None:
    table = read_table(ledger_words(), GRID)
    assert table.records() == EXPECTED
    assert table.text().splitlines()[:4] == [
        "INDEX DES IMMEUBLES",
        "Date | Nature de l'acte | Parties | Numéro | Remarques",
        "1952-09-05 | Vente | Roy, Luc à Côté, Marie | 1 234 567 | Radiée",
        "2001-01-02 | Bail | Morin, Jean | 7 654 321",
    ]


def test_table_from_word_positions_when_no_ruling() -> None:
    found = columns_from_words(ledger_words())
    assert len(found) == len(COLS)
    for got, ruled in zip(found[1:-1], COLS[1:-1], strict=True):
        assert ruled - 300 < got < ruled + 20  # in the gap before the column's first word
    table = read_table(ledger_words(), None)
    assert table.before == ["INDEX DES IMMEUBLES"]
    assert table.records() == EXPECTED


def test_missing_column_leaves_its_key_empty() -> None:
    table = read_table(ledger_words((0, 1, 2, 3)), Grid(GRID.rows_y, COLS[:5]))
    assert [r["remarques"] for r in table.records()] == [""] * len(ROWS)
    assert [r["numero"] for r in table.records()][:2] == ["1 234 567", "7 654 321"]


def test_columns_found_by_header_not_by_position() -> None:
    table = read_table(ledger_words((3, 0, 2, 1, 4)), GRID)
    assert table.keys == ["numero", "date", "parties", "nature", "remarques"]
    assert table.records()[0]["numero"] == "1 234 567"
    assert table.records()[0]["nature"] == "Vente"
