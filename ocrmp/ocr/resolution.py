"""A page's true resolution, and the scale that brings its print to the engine's good range.

Three witnesses, most trusted first: the PDF's placement of its scan image (pixels over
the inches it covers), the image file's own DPI, and the text itself: typed and printed
body text has an x-height of about 0.075 in, whatever the page. A declared resolution
the text contradicts by more than a factor of two (a 1024-pixel JPEG "at 72 dpi", a phone
photo "at 300") is not believed.

Scaling works on the measured x-height, not on the dpi: what the engine sees is pixels.
Print smaller than `LOW_X_HEIGHT` px is enlarged (faxes, small JPEGs, 100-dpi scans);
print larger than `HIGH_X_HEIGHT` is reduced, which costs nothing in accuracy and saves
recognition time on 400- and 600-dpi scans. The band comes from the real corpus
(bench/RESULTS.md): enlarging further, or reducing print that is already in the band,
made no page better.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

X_HEIGHT_IN = 0.075  # typewriter and book faces at 10-12 points
TRUST_FACTOR = 2.0  # a declared dpi this far from the text's is wrong
LOW_X_HEIGHT, UP_TO = 11.0, 14.0  # px: enlarge smaller print to UP_TO
HIGH_X_HEIGHT, DOWN_TO = 30.0, 24.0  # px: reduce larger print to DOWN_TO
MAX_SCALE = 4.0
MIN_X_HEIGHT = 4.0  # px: no legible print is smaller; a smaller reading is specks
MAX_SCALED_MEGAPIXELS = 50.0  # an enlarged page stays within the engine's cap


@dataclass(frozen=True)
class Resolution:
    dpi: float  # the page's true resolution, as best known
    source: str  # pdf, image, text or default: where `dpi` comes from
    declared: float | None  # what the file said, when it said anything
    x_height_px: float  # measured, in the page's own pixels; 0 when not measured
    scale: float  # the page is resized by this before recognition

    @property
    def engine_dpi(self) -> float:
        """The resolution of the page as the engine gets it."""
        return self.dpi * self.scale


def text_dpi(x_height_px: float) -> float:
    return x_height_px / X_HEIGHT_IN


def believe(declared: float | None, x_height_px: float) -> bool:
    """Whether a declared resolution agrees with the text's size (or nothing contradicts it)."""
    if not declared:
        return False
    if not x_height_px:
        return True
    ratio = declared / text_dpi(x_height_px)
    return 1 / TRUST_FACTOR <= ratio <= TRUST_FACTOR


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
    (`x_height_px`, 0 when the analysis could not measure it)."""
    measured = x_height_px if x_height_px >= MIN_X_HEIGHT else 0.0
    if believe(declared, measured):
        dpi, where = float(declared or 0), source
    elif measured:
        dpi, where = round(text_dpi(measured)), "text"
    else:
        dpi, where = float(default_dpi), "default"
    # Print the analysis could not measure is taken for body text at the page's resolution.
    x_height = measured or X_HEIGHT_IN * dpi
    megapixels = shape[0] * shape[1] / 1e6
    return Resolution(dpi, where, declared, round(measured, 1),
                      round(choose_scale(x_height, megapixels), 3))


def rescale(img: np.ndarray, scale: float) -> np.ndarray:
    """The page resized by `scale`: cubic when enlarging, area-averaged when reducing."""
    if scale == 1.0:
        return img
    mode = cv2.INTER_CUBIC if scale > 1 else cv2.INTER_AREA
    return cv2.resize(img, None, fx=scale, fy=scale, interpolation=mode)
