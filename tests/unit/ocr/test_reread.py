"""Second readings: which reading is kept, and the ink no word covers (no engine)."""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw

from ocrmp.corpus import font
from ocrmp.ocr import clean, ink
from ocrmp.ocr.engines import Recognition, recognition_from_words
from ocrmp.ocr.geometry import Box, Word
from ocrmp.ocr.page import Frame, Page, Resolution
from ocrmp.ocr.pages import PageImage
from ocrmp.ocr.recognise import Blocks
from ocrmp.ocr.reread import (
    Reread,
    centres_covered,
    is_better,
    uncovered,
    unread_share,
    weak_lines,
)
from tests.words import word


def test_a_second_reading_replaces_the_first_only_when_surer_and_a_word() -> None:
    first = word("DH8-1IL", 0.0, 0, 0, 80, 30)
    assert is_better(first, [word("558-111", 91.0, 0, 0, 80, 30)])
    assert not is_better(first, [word("#", 96.0, 0, 0, 80, 30)])  # a mark, however sure
    assert not is_better(word("Vente", 55.0, 0, 0, 80, 30),
                         [word("Vento", 62.0, 0, 0, 80, 30)])  # not surer by enough
    assert not is_better(first, [])


class OneLine:
    """An engine that reads any crop as one sure line filling it: what the real engine
    does with a line the page's layout cut in two, once given the line alone."""

    name = "one-line"
    reads = 0

    def recognize(self, image: np.ndarray, *, psm: int = 6,
                  dpi: float | None = None) -> Recognition:
        self.reads += 1
        height, width = image.shape[:2]
        return recognition_from_words([word("Tableau", 95.0, 4, 4, width - 8, height - 8)])


def test_a_line_cut_in_halves_is_read_whole_once_and_the_other_half_goes() -> None:
    page, _ = typed_page(3)
    engine = OneLine()
    upper = word("Tabl", 20.0, 150, 150, 300, 14, (2, 1, 1))
    lower = word("LEau", 20.0, 150, 166, 300, 14, (2, 1, 2))
    other = word("province", 90.0, 150, 240, 300, 30, (2, 1, 3))
    again = Reread(page, engine, Blocks(10))  # type: ignore[arg-type]
    page.resolution = Resolution(300.0, "pdf", 300.0, 20.0, 1.0)
    out = weak_lines([upper, lower, other], again)
    assert [w.text for w in out] == ["Tableau", "province"] and engine.reads == 1


def typed_page(count: int) -> tuple[Page, list[Word]]:
    """A page of `count` typed lines, analysed as the readers do, and a word box over each
    line, as if all were read."""
    canvas = Image.new("L", (1700, 2200), 255)
    draw = ImageDraw.Draw(canvas)
    typeface = font(40)
    boxes = []
    for row in range(count):
        text = "Le vendeur cède l'immeuble au prix convenu"
        left, top, right, bottom = draw.textbbox((150, 150 + row * 90), text, font=typeface)
        draw.text((150, 150 + row * 90), text, font=typeface, fill=0)
        boxes.append(word(text, 90.0, left, top, right - left, bottom - top, (1, 1, row)))
    image = np.asarray(canvas, dtype=np.uint8).copy()
    page = Page.of(PageImage(0, image, 300.0, False))
    page.ink = ink.analyse(clean.flatten(image))
    page.frame = Frame((1700, 2200))
    return page, boxes


def test_the_share_of_text_no_word_covers_is_that_of_the_lines_left_out() -> None:
    page, lines = typed_page(12)
    found = uncovered(page, [])  # before reading, nothing covers anything
    assert len(found.pieces) >= 12
    assert unread_share(found, lines) == 0.0  # read whole
    assert 0.4 < unread_share(found, lines[:6]) < 0.6  # half the lines left out
    assert unread_share(found, []) > 0.95  # nothing read at all


def test_ink_under_the_words_read_is_covered() -> None:
    page, lines = typed_page(12)
    assert uncovered(page, lines[:6]).pieces and not uncovered(page, lines).pieces


def test_a_centre_on_a_cover_edge_is_covered_and_one_outside_is_not() -> None:
    covers = [Box(10, 10, 20, 20)]
    boxes = [Box(18, 18, 22, 22), Box(21, 10, 25, 12), Box(0, 0, 4, 4)]
    assert centres_covered(boxes, covers) == [True, False, False]
    assert centres_covered(boxes, []) == [False, False, False]
