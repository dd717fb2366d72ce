"""Second readings: which reading is kept, and where re-read words go (pure parts)."""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw

from ocrmp.corpus import font
from ocrmp.ocr.engines import Word
from ocrmp.ocr.recheck import _overlapping, is_better, uncovered, unread_share
from ocrmp.ocr.rows import in_page_lines


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
    out = in_page_lines([*first, *second, title, word("VENTE", 90.0, 700, 200, (0, 0, 1))])
    assert [w.text for w in out] == ["ACTE", "VENTE", "Le", "13", "province"]


def typed_lines(count: int) -> tuple[np.ndarray, list[Word]]:
    """A page of `count` typed lines, and a word box over each line, as if all were read."""
    canvas = Image.new("L", (1700, 2200), 255)
    draw = ImageDraw.Draw(canvas)
    typeface = font(40)
    boxes = []
    for row in range(count):
        text = "Le vendeur cède l'immeuble au prix convenu"
        left, top, right, bottom = draw.textbbox((150, 150 + row * 90), text, font=typeface)
        draw.text((150, 150 + row * 90), text, font=typeface, fill=0)
        boxes.append(Word(text, 90.0, left, top, right - left, bottom - top, (1, 1, row)))
    return np.asarray(canvas, dtype=np.uint8).copy(), boxes


def test_the_share_of_text_no_word_covers_is_that_of_the_lines_left_out() -> None:
    image, lines = typed_lines(12)
    found = uncovered(image, [])  # before reading, nothing covers anything
    assert unread_share(found, lines) == 0.0  # read whole
    assert 0.4 < unread_share(found, lines[:6]) < 0.6  # half the lines left out
    assert unread_share(found, []) > 0.95  # nothing read at all
