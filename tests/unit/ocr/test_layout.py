"""The page's layout and lines: gutters, pieces of one line, reading order (no engine)."""

from __future__ import annotations

import pytest

from ocrmp.ocr.deed import kept_missed, paragraphs_text
from ocrmp.ocr.engines import parse_tsv, recognition_from_words
from ocrmp.ocr.geometry import Box, Line, Word, engine_lines
from ocrmp.ocr.layout import Gutter, engine_gutters, find_gutters, page_lines
from tests.words import word

H = 30  # text height in pixels
GLYPH = 30.0


def line(texts: list[str], top: int, xs: list[int], key: tuple[int, int, int] = (1, 1, 1),
         conf: float = 90.0) -> list[Word]:
    return [word(t, conf, x, top, 18 * len(t), H, key) for t, x in zip(texts, xs, strict=True)]


def text_of(lines: list[Line]) -> str:
    return "\n".join(ln.text for ln in lines)


def test_paragraphs_from_wider_gaps_and_tesseract_paragraphs() -> None:
    words = (line(["Le", "vendeur"], 100, [0, 60], (1, 1, 1))
             + line(["déclare."], 145, [0], (1, 1, 2))
             + line(["Lequel"], 215, [0], (1, 1, 3))  # a gap half again as tall
             + line(["vend."], 260, [0], (1, 1, 4))
             + line(["Fin"], 305, [0], (1, 2, 1)))  # tesseract's own paragraph
    assert paragraphs_text(engine_lines(words)) == "Le vendeur\ndéclare.\n\nLequel\nvend.\n\nFin"
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
    assert words[0].key == (1, 1, 1) and words[0].right == 50
    recognition = recognition_from_words(words)
    assert recognition.text == "Acte de\nvente\n\nFin"
    assert recognition.mean_confidence == pytest.approx((96.5 + 90.5 + 80 + 88) / 4)


# --- gutters -------------------------------------------------------------------------------

def column_pieces(lines: int, lefts: tuple[int, ...], widths: tuple[int, ...],
                  pitch: int = 45) -> list[Box]:
    """Pieces of text lines: on each line one piece per column, starting at the column's
    left edge, of the width given (cycled), as a two-column page's analysis gives."""
    boxes = []
    for row in range(lines):
        for left, width in zip(lefts, widths, strict=True):
            w = width - 37 * (row % 3)  # ragged right edges
            boxes.append(Box(left, 100 + row * pitch, left + w, 100 + row * pitch + H))
    return boxes


def test_a_gap_between_two_columns_down_the_page_is_a_gutter() -> None:
    pieces = column_pieces(12, (100, 1000), (800, 800))
    gutters = find_gutters(pieces, GLYPH)
    assert len(gutters) == 1
    assert 900 <= gutters[0].x <= 1000 and gutters[0].top <= 100 + H
    assert gutters[0].bottom >= 100 + 11 * 45


def test_a_river_of_spaces_is_no_gutter() -> None:
    # Wide typewriter spaces that happen to line up: the text right of them does not
    # start at one edge, line after line.
    pieces = []
    for row in range(12):
        split = 500 + 47 * (row % 4)
        top = 100 + row * 45
        pieces += [Box(100, top, split, top + H), Box(split + 90, top, 1700, top + H)]
    assert find_gutters(pieces, GLYPH) == []


def test_a_gap_on_too_few_lines_is_no_gutter() -> None:
    # A letter's heading: the sender left, the date right, on three lines.
    assert find_gutters(column_pieces(3, (100, 1200), (500, 400)), GLYPH) == []


def test_a_title_across_the_columns_ends_the_gutter_above_it() -> None:
    pieces = column_pieces(6, (100, 1000), (800, 800))
    pieces.append(Box(100, 100 + 6 * 45, 1800, 100 + 6 * 45 + H))  # across both
    pieces += [b.shifted(0, 7 * 45) for b in column_pieces(6, (100, 1000), (800, 800))]
    gutters = find_gutters(pieces, GLYPH)
    assert len(gutters) == 2 and gutters[0].bottom < 100 + 6 * 45 < gutters[1].top


def column_words(block: int, left: int, lines: int, top: int = 100) -> list[Word]:
    """A column the engine read as one block: `lines` lines starting at `left`."""
    return [w for row in range(lines)
            for w in line(["mot", "de", "colonne"], top + 45 * row, [left, left + 80, left + 130],
                          (block, 1, row + 1))]


def test_two_blocks_of_the_engine_side_by_side_with_paper_between_are_columns() -> None:
    # A printed page's narrow gutter, 1.5 glyphs: the engine read its columns apart.
    words = column_words(1, 100, 8) + column_words(2, 400, 8)
    gutters = engine_gutters(words, GLYPH)
    assert len(gutters) == 1 and 356 <= gutters[0].x <= 400


def test_blocks_of_a_line_or_two_side_by_side_are_no_columns() -> None:
    # The engine's split of a typed page at a river of spaces: blocks of a line or two.
    words = column_words(1, 100, 2) + column_words(2, 400, 2, top=100) + \
        column_words(3, 100, 2, top=190) + column_words(4, 430, 2, top=190)
    assert engine_gutters(words, GLYPH) == []


def test_a_column_is_read_whole_down_to_a_footer_across_the_page() -> None:
    words = column_words(1, 100, 8) + column_words(2, 400, 8)
    words += line(["pied", "de", "page", "commun"], 100 + 45 * 8, [100, 200, 260, 340], (3, 1, 1))
    gutter = Gutter(356, 400, 100, 100 + 45 * 4)  # found on the first lines only
    lines = page_lines(words, [gutter])
    assert [ln.key[0] for ln in lines] == [1] * 8 + [2] * 8 + [3]


# --- lines ---------------------------------------------------------------------------------

def test_two_columns_are_read_one_after_the_other_never_across() -> None:
    gutter = [Gutter(950, 1000, 90, 400)]
    # The engine read each printed row across the gutter as one line.
    words = (line(["-Ahh", "c'est", "vous?"], 100, [100, 200, 300], (1, 1, 1))
             + line(["-Jeanne", "d'Arc"], 100, [1000, 1200], (1, 1, 1))
             + line(["Oui."], 150, [100], (1, 1, 2))
             + line(["a", "agi"], 150, [1000, 1100], (1, 1, 2)))
    lines = page_lines(words, gutter)
    assert text_of(lines) == "-Ahh c'est vous?\nOui.\n-Jeanne d'Arc\na agi"


def test_a_page_read_as_two_blocks_of_half_lines_is_read_line_by_line() -> None:
    # What tesseract gives when typed spaces down the page look like a column gap.
    left = line(["Elle", "avale"], 100, [100, 200], (1, 1, 1)) + \
        line(["Il", "la"], 150, [100, 200], (1, 1, 2))
    right = line(["une", "salive"], 102, [340, 440], (2, 1, 1)) + \
        line(["regarde"], 151, [340], (2, 1, 2))
    assert text_of(page_lines(left + right, [])) == "Elle avale une salive\nIl la regarde"


def test_words_of_a_split_line_come_left_to_right_whatever_the_engines_order() -> None:
    words = [word("une", 90.0, 300, 100, 54, H, (2, 1, 1)),
             word("Elle", 90.0, 100, 100, 72, H, (1, 1, 1)),
             word("salive", 90.0, 400, 101, 108, H, (2, 1, 1))]
    assert text_of(page_lines(words, [])) == "Elle une salive"


def test_overlapping_readings_are_not_one_line() -> None:
    # Two readings over the same ink (a word and its second reading): not side by side.
    first = word("saisie", 90.0, 100, 100, 108, H, (1, 1, 1))
    again = word("saisie.", 90.0, 110, 102, 126, H, (3, 1, 1))
    assert text_of(page_lines([first, again], [])) == "saisie\nsaisie."


def test_lines_that_only_touch_by_a_descender_stay_two_lines() -> None:
    above = word("page", 90.0, 100, 100, 80, 40, (1, 1, 1))  # its descender reaches 140
    below = word("suite", 90.0, 300, 128, 80, 30, (2, 1, 1))  # overlaps 12 of 30 px
    assert text_of(page_lines([above, below], [])) == "page\nsuite"


def test_a_line_read_again_goes_where_it_lies() -> None:
    first = line(["Le", "13"], 300, [100, 200], (1, 1, 1))
    second = line(["province"], 350, [100], (1, 1, 2))
    title = line(["ACTE", "VENTE"], 200, [150, 260], (9, 1, 1))
    assert text_of(page_lines(first + second + title, [])) == "ACTE VENTE\nLe 13\nprovince"


def test_a_page_read_in_order_is_left_as_it_was() -> None:
    words = line(["Par", "devant"], 100, [100, 200], (1, 1, 1)) + \
        line(["le", "notaire"], 150, [100, 200], (1, 2, 1))
    assert [w for ln in page_lines(words, []) for w in ln.words] == words


def test_a_line_the_layout_missed_is_kept_when_read_as_a_line_of_words() -> None:
    stanza = line(["Sous", "le", "pont", "Mirabeau"], 500, [100, 200, 260, 360], (9, 1, 1),
                  conf=76.0)
    assert kept_missed(stanza) == stanza
    # A scanner's edge read as letters: single marks, kept only when read surely.
    assert kept_missed(line(["E"], 500, [5], (9, 1, 1), conf=80.0)) == []
    assert [w.text for w in kept_missed(line(["E", "Î"], 500, [5, 40], (9, 1, 1),
                                              conf=80.0))] == []
    garbled = line(["rtkqz", "xzqwv"], 500, [100, 300], (9, 1, 1), conf=75.0)
    assert kept_missed(garbled) == []
