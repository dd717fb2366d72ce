"""The engine's readings of a page: the whole page, or one box of it again.

Every reading of a part of the page goes through `read_box`, so a strip of a ledger, a
line read again and ink no word covered are all cut, padded and placed back alike. Each
reading gets block numbers of its own (`Blocks`), so that the words of two readings never
share an engine line by accident.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from ocrmp.ocr.engines import Engine
from ocrmp.ocr.geometry import Box, Word

LINE_PSM = 7  # one line of text
# On a flattened page paper is white: a box with no pixel darker than this holds no ink.
INK_LEVEL = 200


@dataclass
class Blocks:
    """Hands out block numbers for the page's readings: each reading's own start above
    every earlier reading's blocks."""

    next: int = 0

    def take(self, words: list[Word]) -> list[Word]:
        base = self.next
        self.next = base + 1 + max((w.key[0] for w in words), default=0)
        return [Word(w.text, w.conf, w.box, (base + w.key[0], w.key[1], w.key[2]))
                for w in words]


def read_page(image: np.ndarray, engine: Engine, dpi: float, psm: int,
              blocks: Blocks) -> list[Word]:
    return blocks.take(engine.recognize(image, psm=psm, dpi=dpi).words)


def read_box(image: np.ndarray, box: Box, engine: Engine, dpi: float, blocks: Blocks, *,
             psm: int = LINE_PSM, pad: float = 0.0, threshold: bool = False) -> list[Word]:
    """The words of one box of the page in page pixels; none for a box without ink.

    `pad`: a margin of the page taken around the box, then as much white paper added
    around the crop (the engine reads a line badly that touches the image's edge);
    `threshold`: Otsu's threshold of the crop first (light or coloured ink the whole
    page's threshold failed)."""
    height, width = image.shape[:2]
    margin = round(pad)
    cut = box.padded(margin).clipped(width, height)
    crop = image[cut.top:cut.bottom, cut.left:cut.right]
    if crop.size == 0 or not (crop < INK_LEVEL).any():
        return []
    if threshold:
        crop = cv2.threshold(crop, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)[1]
    if margin:
        crop = cv2.copyMakeBorder(crop, margin, margin, margin, margin,
                                  cv2.BORDER_CONSTANT, value=255)
    words = engine.recognize(np.ascontiguousarray(crop), psm=psm, dpi=dpi).words
    return blocks.take([w.moved(cut.left - margin, cut.top - margin) for w in words])
