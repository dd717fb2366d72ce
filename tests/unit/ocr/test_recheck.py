"""Second readings: which reading is kept, and where re-read words go (pure parts)."""

from __future__ import annotations

from ocrmp.ocr.engines import Word
from ocrmp.ocr.recheck import _overlapping, in_reading_order, is_better


def word(text: str, conf: float, left: int, top: int, key: tuple[int, int, int],
         width: int = 80, height: int = 30) -> Word:
    return Word(text, conf, left, top, width, height, key)


def test_a_second_reading_replaces_the_first_only_when_surer_and_a_word() -> None:
    first = word("DH8-1IL", 0.0, 0, 0, (1, 1, 1))
    assert is_better(first, [word("558-111", 91.0, 0, 0, (1, 1, 1))])
    assert not is_better(first, [word("#", 96.0, 0, 0, (1, 1, 1))])  # a mark, however sure
    assert not is_better(word("Vente", 55.0, 0, 0, (1, 1, 1)),
                         [word("Vento", 62.0, 0, 0, (1, 1, 1))])  # not surer by enough
    assert not is_better(first, [])


def test_pieces_of_one_printed_line_are_read_together() -> None:
    upper = (2, 1, 1), [word("Ta", 20.0, 200, 303, (2, 1, 1), height=10)]
    lower = (2, 1, 2), [word("LE", 20.0, 200, 314, (2, 1, 2), height=12)]
    other = (2, 1, 3), [word("province", 20.0, 200, 348, (2, 1, 3))]
    assert _overlapping([upper, lower, other]) == [[(2, 1, 1), (2, 1, 2)], [(2, 1, 3)]]


def test_words_read_again_go_before_the_first_line_below_them() -> None:
    title = word("ACTE", 90.0, 600, 200, (0, 0, 1))
    first = [word("Le", 90.0, 100, 300, (1, 1, 1)), word("13", 90.0, 200, 300, (1, 1, 1))]
    second = [word("province", 90.0, 100, 350, (1, 1, 2))]
    out = in_reading_order([*first, *second], [title, word("VENTE", 90.0, 700, 200, (0, 0, 1))])
    assert [w.text for w in out] == ["ACTE", "VENTE", "Le", "13", "province"]
