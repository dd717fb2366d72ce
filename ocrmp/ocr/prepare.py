"""A page made ready for its reader: upright, at a resolution the engine reads well.

Both readers (acte and index) start here, so orientation and resolution have one
implementation: analyse the ink once, turn the page upright, measure its print, scale it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from ocrmp.ocr import analysis, orientation, preprocess, resolution
from ocrmp.ocr.analysis import Ink, Line
from ocrmp.ocr.orientation import LineReader, Orientation, Upright
from ocrmp.ocr.pages import PageImage
from ocrmp.ocr.resolution import Resolution


@dataclass(frozen=True)
class PreparedPage:
    image: np.ndarray  # gray, borders and background removed, upright, scaled
    orientation: Orientation
    resolution: Resolution
    ink: Ink  # the analysis mask, upright (not scaled: its own reduction)
    glyph_px: float  # median glyph size in the analysis mask
    lines: tuple[Line, ...]  # text lines of the upright analysis mask
    glyphs: int  # glyph-sized ink components: roughly how many characters the page holds
    skew_deg: float  # measured while finding the orientation, as `preprocess.deskew` takes it
    timings_ms: dict[str, float] = field(default_factory=dict)


def orient(flat: np.ndarray, engine: LineReader | None) -> Upright:
    """The orientation of a flattened page (`preprocess.flatten`), and its analysis."""
    return orientation.detect(analysis.ink_of(flat), flat, engine)


def prepare_page(page: PageImage, engine: LineReader | None,
                 default_dpi: float) -> PreparedPage:
    flat = preprocess.flatten(page.image)
    started = time.perf_counter()
    found = orient(flat.image, engine)
    oriented = time.perf_counter()
    image = orientation.upright(flat.image, found.orientation.angle)
    x_height = analysis.x_height(found.lines) * found.ink.reduction
    res = resolution.resolve(page.declared_dpi, page.dpi_source, x_height, image.shape,
                             default_dpi)
    image = resolution.rescale(image, res.scale)
    done = time.perf_counter()
    timings = {**{f"preprocess_{k}": v for k, v in flat.timings_ms.items()},
               "orientation": (oriented - started) * 1000,
               "resolution": (done - oriented) * 1000}
    return PreparedPage(image, found.orientation, res, found.ink, found.size, found.lines,
                        found.glyphs, found.skew_deg, timings)
