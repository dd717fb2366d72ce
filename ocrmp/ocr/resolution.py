"""A page's true resolution, and the scale that brings its print to the engine's good range.

The file's own resolution is believed unless it is missing or implausible: the PDF's
placement of its scan image, or the image file's DPI. Implausible means a value that only
says "unknown" (72 and 96 are what screens and converters write when nobody knew), or a
page whose size at that resolution is no paper's (a 300-dpi scan placed as if at 72 dpi
comes out 35 by 46 inches; a 1024-pixel JPEG marked 300 dpi, 3.4 by 4.4). Only then is
the resolution guessed from the text itself: typed and printed body text has an x-height
of about 0.075 in, whatever the page. Print is hard to measure on faint or broken
typing, so the text never overrules a resolution the file states plausibly.

Scaling works on the x-height, not on the dpi: what the engine sees is pixels. The
measured x-height is used when it agrees with the resolution (within a factor of two),
else the resolution's nominal one. Print smaller than `LOW_X_HEIGHT` px is enlarged
(faxes, small JPEGs, 100-dpi scans); print larger than `HIGH_X_HEIGHT` is reduced, which
costs nothing in accuracy and saves recognition time on 400- and 600-dpi scans.
"""

from __future__ import annotations

import cv2
import numpy as np

from ocrmp.ocr.page import Resolution

X_HEIGHT_IN = 0.075  # typewriter and book faces at 10-12 points
AGREE_FACTOR = 2.0  # a measured x-height this far from the resolution's is not its print
LOW_X_HEIGHT, UP_TO = 11.0, 14.0  # px: enlarge smaller print to UP_TO
HIGH_X_HEIGHT, DOWN_TO = 30.0, 24.0  # px: reduce larger print to DOWN_TO
MAX_SCALE = 4.0
MIN_X_HEIGHT = 4.0  # px: no legible print is smaller; a smaller reading is specks
MAX_SCALED_MEGAPIXELS = 50.0  # an enlarged page stays within the engine's cap
UNKNOWN_DPI = (72.0, 96.0)  # what a file says when nobody knew
PAGE_INCHES = (5.0, 30.0)  # the longer side of a whole page: a postcard, a large ledger


def text_dpi(x_height_px: float) -> float:
    return x_height_px / X_HEIGHT_IN


def plausible(declared: float | None, shape: tuple[int, ...]) -> bool:
    """Whether a declared resolution can be the scan's own (see the module's docstring)."""
    if not declared or any(abs(declared - value) < 0.5 for value in UNKNOWN_DPI):
        return False
    inches = max(shape[:2]) / declared
    return PAGE_INCHES[0] <= inches <= PAGE_INCHES[1]


def agrees(dpi: float, x_height_px: float) -> bool:
    """Whether measured print of this x-height can be body text at `dpi`."""
    ratio = dpi / text_dpi(x_height_px)
    return 1 / AGREE_FACTOR <= ratio <= AGREE_FACTOR


def choose_scale(x_height_px: float, megapixels: float) -> float:
    """The resize factor for print of this x-height; 1 inside the good band."""
    if x_height_px <= 0:
        return 1.0
    if x_height_px < LOW_X_HEIGHT:
        scale = min(MAX_SCALE, UP_TO / x_height_px)
        return min(scale, (MAX_SCALED_MEGAPIXELS / max(megapixels, 1e-6)) ** 0.5)
    if x_height_px > HIGH_X_HEIGHT:
        return DOWN_TO / x_height_px
    return 1.0


def resolve(declared: float | None, source: str, x_height_px: float,
            shape: tuple[int, ...], default_dpi: float) -> Resolution:
    """The page's resolution from what its file declared and what its text measures
    (`x_height_px` on the upright page, 0 when the analysis could not measure it)."""
    measured = x_height_px if x_height_px >= MIN_X_HEIGHT else 0.0
    if declared and plausible(declared, shape):
        dpi, where = float(declared), source
    elif measured:
        dpi, where = float(round(text_dpi(measured))), "text"
    else:
        dpi, where = float(default_dpi), "default"
    print_px = measured if measured and agrees(dpi, measured) else X_HEIGHT_IN * dpi
    megapixels = shape[0] * shape[1] / 1e6
    return Resolution(dpi, where, declared, round(measured, 1),
                      round(choose_scale(print_px, megapixels), 3))


def rescale(img: np.ndarray, scale: float) -> np.ndarray:
    """The page resized by `scale`: cubic when enlarging, area-averaged when reducing."""
    if scale == 1.0:
        return img
    mode = cv2.INTER_CUBIC if scale > 1 else cv2.INTER_AREA
    return cv2.resize(img, None, fx=scale, fy=scale, interpolation=mode)
