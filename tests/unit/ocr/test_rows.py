"""A deed's lines as they lie on the page: the pure decisions on word boxes."""

from __future__ import annotations

from ocrmp.ocr.engines import Word, recognition_from_words
from ocrmp.ocr.rows import in_page_lines


def word(text: str, left: int, top: int, key: tuple[int, int, int], height: int = 30) -> Word:
    return Word(text, 90.0, left, top, 20 * len(text), height, key)


def text_of(words: list[Word]) -> str:
    return recognition_from_words(in_page_lines(words)).text


def test_a_page_read_as_two_blocks_of_half_lines_is_read_line_by_line() -> None:
    # What tesseract gives when a wide space down the page looks like a column gap.
    left = [word("Elle", 100, 100, (1, 1, 1)), word("avale", 200, 100, (1, 1, 1)),
            word("Il", 100, 150, (1, 1, 2)), word("la", 200, 150, (1, 1, 2))]
    right = [word("une", 600, 102, (2, 1, 1)), word("salive", 700, 102, (2, 1, 1)),
             word("regarde", 600, 151, (2, 1, 2))]
    assert text_of(left + right) == "Elle avale une salive\nIl la regarde"


def test_words_of_a_split_line_come_left_to_right_whatever_the_engines_order() -> None:
    words = [word("une", 300, 100, (2, 1, 1)), word("Elle", 100, 100, (1, 1, 1)),
             word("salive", 400, 101, (2, 1, 1))]
    assert text_of(words) == "Elle une salive"


def test_lines_that_only_touch_by_a_descender_stay_two_lines() -> None:
    above = word("page", 100, 100, (1, 1, 1), height=40)  # its descender reaches 140
    below = word("suite", 400, 128, (1, 1, 2), height=30)  # overlaps 12 of 30 px
    assert text_of([above, below]) == "page\nsuite"


def test_overlapping_pieces_are_not_one_line() -> None:
    # Two readings over the same ink (a word and its second reading): not side by side.
    first = word("saisie", 100, 100, (1, 1, 1))
    again = word("saisie.", 110, 102, (3, 1, 1))
    assert text_of([first, again]).split() == ["saisie", "saisie."]
    assert "\n" in text_of([first, again])


def test_a_page_read_in_order_is_left_as_it_was() -> None:
    words = [word("Par", 100, 100, (1, 1, 1)), word("devant", 200, 100, (1, 1, 1)),
             word("le", 100, 150, (1, 2, 1)), word("notaire", 200, 150, (1, 2, 1))]
    assert in_page_lines(words) == words
