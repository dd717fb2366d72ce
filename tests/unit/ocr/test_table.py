"""Index tables from words placed by hand (no engine): lines, header, columns, rows, cells."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from ocrmp.ocr.geometry import Word, lines_of
from ocrmp.ocr.ledger import read_table, rows_joined, table_text, trusted
from ocrmp.ocr.page import Page
from ocrmp.ocr.pages import PageImage
from ocrmp.ocr.table import name_columns
from ocrmp.vocabulary import PageFlag
from tests.words import word

H = 30  # text height in pixels


def words_at(cells: list[tuple[str, int]], top: int, key: int = 1) -> list[Word]:
    """One table line: each cell's words start at its x, words 12 px apart."""
    out = []
    for text, x in cells:
        for part in text.split():
            out.append(word(part, 90.0, x, top, 14 * len(part), H, (1, 1, key)))
            x += 14 * len(part) + 12
    return out


COLS = [100, 400, 700, 1300, 1600, 1900]
HEADER = ["Date", "Nature de l'acte", "Parties", "Numéro", "Remarques"]
ROWS = [
    ["1952-09-05", "Vente", "Roy, Luc à Côté, Marie", "1 234567", "Radiée"],
    ["2001-01-02", "Bail", "Morin, Jean", "7 654 321", ""],
] * 4
RULES_Y = [190 + 80 * i for i in range(len(ROWS) + 2)]


def ledger_words(order: tuple[int, ...] = (0, 1, 2, 3, 4)) -> list[Word]:
    """A title, then the header and rows with columns in `order`, 20 px into each cell."""
    def cells(values: list[str]) -> list[tuple[str, int]]:
        return [(values[column], x + 20) for column, x in zip(order, COLS, strict=False)]

    out = words_at([("INDEX DES IMMEUBLES", 100)], 50)
    out += words_at([("Circonscription foncière de Laval, lot 1 234 567", 100)], 110)
    for i, values in enumerate([HEADER, *ROWS]):
        out += words_at(cells(values), 210 + 80 * i, 2 + i)
    return out


def test_words_make_the_lines_the_page_shows() -> None:
    words = words_at([("Lefebvre, Chloé", 100)], 100) + words_at([("Quittance", 700)], 112)
    words += words_at([("Morin, Rémi", 100)], 150)
    lines = lines_of(words)
    assert [line.text for line in lines] == ["Lefebvre, Chloé Quittance", "Morin, Rémi"]


def test_a_ruled_table_gives_one_record_per_row_with_every_field() -> None:
    table = read_table(ledger_words(), RULES_Y, COLS)
    records = [{k: r[k] for k in ("date", "nature", "numero", "remarques")}
               for r in (record_of(table, i) for i in range(len(ROWS)))]
    assert records[:2] == [
        {"date": "1952-09-05", "nature": "Vente", "numero": "1 234 567", "remarques": "Radiée"},
        {"date": "2001-01-02", "nature": "Bail", "numero": "7 654 321", "remarques": ""}]
    assert [f.key for f in table.fields] == ["date", "nature", "parties", "numero",
                                             "remarques"]
    text = table_text(table, lines_of(ledger_words())).splitlines()
    assert text[2] == "Date | Nature de l'acte | Parties | Numéro | Remarques"
    assert text[3] == "1952-09-05 | Vente | Roy, Luc à Côté, Marie | 1 234567 | Radiée"


def record_of(table: object, index: int) -> dict:
    from ocrmp.ocr.ledger import records

    return records(table)[index]  # type: ignore[arg-type]


def test_without_rules_the_columns_come_from_the_words_alignment() -> None:
    table = read_table(ledger_words(), [], [])
    assert len(table.columns) == len(COLS)
    for got, ruled in zip(table.columns[1:-1], COLS[1:-1], strict=True):
        assert ruled - 300 < got < ruled + 20  # in the gap before the column's first word
    assert len(table.rows) == len(ROWS)
    assert [line.text for line in table.above][0] == "INDEX DES IMMEUBLES"


def test_columns_are_named_by_their_header_not_their_place() -> None:
    table = read_table(ledger_words((3, 0, 2, 1, 4)), RULES_Y, COLS)
    assert [f.key for f in table.fields] == ["numero", "date", "parties", "nature",
                                             "remarques"]
    record = record_of(table, 0)
    assert record["numero"] == "1 234 567" and record["nature"] == "Vente"


def test_the_page_header_gives_the_lot_and_the_division() -> None:
    from ocrmp.ocr.ledger import table_json

    table = read_table(ledger_words(), RULES_Y, COLS)
    assert table_json(table)["page_header"] == {"circonscription": "Laval", "lot": "1 234 567"}


def test_a_cell_wrapped_over_lines_stays_in_its_row() -> None:
    header = words_at([("Date", 120), ("Qualité", 420), ("Nom des parties", 720),
                       ("Numéro", 1320)], 200)
    first = (words_at([("2009-03-16", 120), ("donateur", 420), ("Pelletier, Noël", 720),
                       ("4 979 495", 1320)], 280)
             + words_at([("donataire", 420), ("Grenier, Réjean", 720)], 315))
    second = words_at([("2008-01-20", 120), ("vendeur", 420), ("Gagnon, Édouard", 720),
                       ("8 371 252", 1320)], 400)
    table = read_table([*header, *first, *second], [], [])
    records = [record_of(table, i) for i in range(2)]
    assert len(table.rows) == 2
    assert records[0]["parties"] == [{"name": "Pelletier, Noël", "role": "donateur"},
                                     {"name": "Grenier, Réjean", "role": "donataire"}]
    assert records[1]["qualite"] == "vendeur"


def test_a_second_whole_date_starts_a_new_row_though_no_gap_or_rule_says_so() -> None:
    header = words_at([("Date", 120), ("Nature", 420), ("Numéro", 720)], 200)
    body = (words_at([("2009-03-16", 120), ("Vente", 420), ("4 979 495", 720)], 280)
            + words_at([("2010-04-01", 120), ("Bail", 420), ("1 111 111", 720)], 315))
    assert len(read_table([*header, *body], [], []).rows) == 2


def test_a_page_without_a_table_keeps_all_its_text() -> None:
    words = words_at([("Le vendeur déclare", 100)], 100) + words_at([("que l'acte", 100)], 150)
    table = read_table(words, [], [])
    assert not table.read and table_text(table, lines_of(words)) == "Le vendeur déclare\nque l'acte"


def test_a_label_running_past_its_column_names_only_that_column() -> None:
    # "DEED" ends past the rule: the label is the nature's; the next column is the number's.
    header = lines_of(words_at([("Date", 20), ("NATURE OF THE DEED", 390),
                                    ("Numéro", 700)], 100))
    fields = name_columns(header, [0, 300, 600, 900])
    assert [f.key for f in fields] == ["date", "nature", "numero"]
    assert fields[1].label == "NATURE OF THE DEED"


def test_marks_in_the_margin_make_no_column_and_keep_their_rows_in_the_table() -> None:
    words = ledger_words()
    # A scanner's edge read as "E" left of the outer rule, beside two of the rows.
    words += [word("E", 40.0, 20, 290, 14, H, (9, 9, 1)), word("E", 40.0, 20, 370, 14, H,
                                                              (9, 9, 2))]
    table = read_table(words, RULES_Y, COLS)
    assert [f.key for f in table.fields] == ["date", "nature", "parties", "numero",
                                             "remarques"]
    assert len(table.rows) == len(ROWS) and not table.below


def test_a_last_column_rarely_filled_keeps_its_rows_in_the_table() -> None:
    # Only one row has a remark, far left of the rule that closes its column.
    rows = [[*row[:4], ""] for row in ROWS]
    rows[2][4] = "Radiée"
    out = words_at([("INDEX DES IMMEUBLES", 100)], 50)
    for i, values in enumerate([HEADER, *rows]):
        out += words_at([(v, x + 20) for v, x in zip(values, COLS, strict=False) if v],
                        210 + 80 * i, 2 + i)
    table = read_table(out, RULES_Y, COLS)
    assert len(table.rows) == len(rows) and not table.below
    assert [record_of(table, i)["remarques"] for i in range(len(rows))] == [
        "Radiée" if i == 2 else "" for i in range(len(rows))]


def test_marks_by_the_page_edge_are_no_rows() -> None:
    # A torn edge found as one more rule, and read as "1" on two lines below the table.
    below = 210 + 80 * (len(ROWS) + 1)
    words = ledger_words() + [word("1", 30.0, 1950, below, 14, H, (9, 9, 1)),
                              word("1", 30.0, 1950, below + 80, 14, H, (9, 9, 2))]
    table = read_table(words, RULES_Y, [*COLS, 2100])
    assert len(table.rows) == len(ROWS)
    assert [f.key for f in table.fields][:5] == ["date", "nature", "parties", "numero",
                                                 "remarques"]


def page_of(words: list[Word], flags: frozenset[PageFlag] = frozenset()) -> Page:
    page = Page.of(PageImage(0, np.full((10, 10), 255, np.uint8), 300.0, False))
    page.words, page.flags = words, set(flags)
    return page


def test_rows_read_as_typed_text_reads_are_trusted() -> None:
    words = ledger_words()
    assert trusted(read_table(words, RULES_Y, COLS), page_of(words))


def test_rows_read_as_only_noise_reads_are_not_given() -> None:
    # A handwritten register: the engine finds rows and cells, and reads nothing in them.
    words = [replace(w, conf=35.0) if w.top >= 290 else w for w in ledger_words()]
    assert not trusted(read_table(words, RULES_Y, COLS), page_of(words))


def test_the_rows_of_a_page_of_handwriting_are_not_given() -> None:
    words = ledger_words()
    page = page_of(words, frozenset({PageFlag.HANDWRITING}))
    assert not trusted(read_table(words, RULES_Y, COLS), page)


def test_rows_whose_date_holds_two_years_were_read_as_one() -> None:
    joined = [{"date": "2004-03-11 2022-08-02", "numero": "3 087 618"}]
    apart = [{"date": "2004-03-11", "numero": "3 087 618"},
             {"date": "12 mars 1938", "date_text": "12 mars 1938"}]
    assert rows_joined(joined)
    assert not rows_joined(apart)
