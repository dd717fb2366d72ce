"""The page model's frame: boxes of the page being read put back on the scan (no engine)."""

from __future__ import annotations

import numpy as np
import pytest

from ocrmp.ocr import clean
from ocrmp.ocr.geometry import Box
from ocrmp.ocr.ink import turn
from ocrmp.ocr.page import Frame
from ocrmp.ocr.resolution import rescale


def read_as(scan: np.ndarray, frame: Frame) -> np.ndarray:
    """The scan turned, levelled and scaled as the readers do it (prepare.py)."""
    image = rescale(turn(scan, frame.angle), frame.scale)
    return clean.level(image, frame.skew) if frame.skew else image


@pytest.mark.parametrize("angle", [0, 90, 180, 270])
@pytest.mark.parametrize(("skew", "scale"), [(0.0, 1.0), (2.0, 1.5), (-1.5, 0.8)])
def test_a_mark_found_on_the_page_being_read_is_put_back_where_it_is_on_the_scan(
        angle: int, skew: float, scale: float) -> None:
    scan = np.full((600, 400), 255, np.uint8)
    scan[100:130, 250:290] = 0  # one dark mark
    frame = Frame((400, 600), angle, skew, scale)
    ys, xs = np.nonzero(read_as(scan, frame) < 128)
    found = frame.to_scan(Box(int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1))
    # Levelling turns the mark a little: its box on the scan grows by a few pixels.
    assert abs(found.left - 250) <= 6 and abs(found.right - 290) <= 6
    assert abs(found.top - 100) <= 6 and abs(found.bottom - 130) <= 6
