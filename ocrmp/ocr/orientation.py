"""Which way up a page is (0, 90, 180 or 270°), decided before anything else is done to it.

The page's own lines decide first, at the cost of a component pass on the analysis mask:
text lines run along the reading direction (`analysis.lines_along`), and an upright line
carries more ink above its x-height band than below (`analysis.ascent`). Where either is
not clear (capitals and digits only, large print, a page of few lines), the engine settles
it on a few of the page's lines, each read in the ways up still in question: text upside
down or sideways reads with a far lower confidence. A page still in doubt is read as it
is, and flagged. tesseract's own detection (OSD) was measured beside this and is slower
by an order of magnitude for the same answers (bench/orientation.py).

Angles follow OpenCV's convention, as skew does: how far the content is turned
counter-clockwise. Turning it back clockwise by that angle makes it upright.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import cv2
import numpy as np

from ocrmp.ocr.analysis import (
    Ink,
    Line,
    ascent,
    component_stats,
    glyph_components,
    glyph_size,
    level,
    lines_along,
    skew_of_ink,
)

# One direction holding this many times the other's share of ink in lines is the axis.
AXIS_RATIO = 1.5
SURELY_ACROSS = 0.5  # this share of the ink in lines across settles the axis alone
MIN_LINE_SHARE = 0.15  # less ink than this in lines either way: no axis to speak of
# An ascent this large settles up and down; upright pages of the real corpus give 0.1-0.7,
# and every page above 0.2 was upright.
ASCENT_SURE = 0.2
SAMPLE_LINES = 3  # at most this many lines read in each way up still in question
SAMPLE_HEIGHT = 48  # px: a sample line is reduced to this height (the engine's is 36)
SAMPLE_LENGTH = 12  # line heights: a sample is cut to this length (~20 characters)
# Mean word confidence (0-100) by which the best way up must beat the next one, and the
# band over which its own confidence goes from "not text" to "text read well".
ENGINE_MARGIN = 15.0
ENGINE_READ = (40.0, 70.0)
UNCERTAIN = 0.5  # below this confidence a page is read as it is, and flagged

_TURN_UPRIGHT = {90: cv2.ROTATE_90_CLOCKWISE, 180: cv2.ROTATE_180,
                 270: cv2.ROTATE_90_COUNTERCLOCKWISE}


@dataclass(frozen=True)
class Orientation:
    angle: int  # 0, 90, 180 or 270: how far the content is turned counter-clockwise
    confidence: float  # 0-1
    method: str  # lines, engine, or none (a page without text lines)

    @property
    def uncertain(self) -> bool:
        return self.method != "none" and self.confidence < UNCERTAIN


class LineReader(Protocol):
    def line_confidence(self, image: np.ndarray) -> float:
        """Mean word confidence (0-100) of one line of text."""
        ...


@dataclass(frozen=True)
class Upright:
    """The page's orientation, and its analysis once turned upright."""

    orientation: Orientation
    ink: Ink  # the mask turned upright (not levelled)
    size: float  # glyph size, mask pixels
    lines: tuple[Line, ...]  # of the upright mask, levelled by `skew_deg`
    glyphs: int  # glyph-sized components: about how many characters the page holds
    skew_deg: float  # of the upright page, as `preprocess.deskew` takes it


@dataclass(frozen=True)
class _Way:
    """The mask read one way (0: as it is, 90: turned a quarter), levelled."""

    skew: float
    share: float  # of the ink in lines across
    lines: tuple[Line, ...]
    turn: int  # 0 or 90: how far the mask was turned back before levelling
    mask: np.ndarray  # turned and levelled: the lines' coordinates are in it


def upright(img: np.ndarray, angle: int) -> np.ndarray:
    """The image turned back by `angle` (a multiple of 90), losslessly."""
    return cv2.rotate(img, _TURN_UPRIGHT[angle]) if angle in _TURN_UPRIGHT else img


def axis_of(horizontal: float, vertical: float) -> int | None:
    """0 for lines across the page, 90 for lines down it, None when it is not clear."""
    if max(horizontal, vertical) < MIN_LINE_SHARE:
        return None
    if horizontal >= AXIS_RATIO * vertical:
        return 0
    if vertical >= AXIS_RATIO * horizontal:
        return 90
    return None


def by_ascent(axis: int, rise: float) -> Orientation:
    """The decision of the lines alone once the axis is known: up or down by the ascent."""
    angle = axis if rise >= 0 else axis + 180
    return Orientation(angle, round(min(1.0, abs(rise) / ASCENT_SURE), 3), "lines")


def by_engine(confidences: dict[int, float]) -> Orientation:
    """The way up whose sample lines read best, sure by its margin over the next best."""
    ranked = sorted(confidences.items(), key=lambda item: -item[1])
    (angle, best), runner_up = ranked[0], ranked[1][1] if len(ranked) > 1 else 0.0
    low, high = ENGINE_READ
    # Lines that read badly every way up (handwriting, a picture) settle nothing.
    sure = min((best - runner_up) / ENGINE_MARGIN, (best - low) / (high - low))
    return Orientation(angle, round(min(1.0, max(0.0, sure)), 3), "engine")


def detect(ink: Ink, gray: np.ndarray, reader: LineReader | None) -> Upright:
    """The orientation of the page `gray`, whose analysis mask is `ink`.

    Each way the lines might run is levelled first by its own skew: a long line skewed
    by two degrees rises more than its height and would close into no bar at all.
    """
    glyphs = glyph_components(component_stats(ink.mask), ink.mask.shape)
    size = glyph_size(glyphs)
    if not size:
        return Upright(Orientation(0, 0.0, "none"), ink, size, (), len(glyphs), 0.0)
    ways = {0: _read_way(ink.mask, size, 0)}
    # Half the ink in lines across: no page turned sideways gives that (its letters,
    # closed across, merge from line to line into blocks), so the other way is spared.
    if ways[0].share < SURELY_ACROSS:
        ways[90] = _read_way(ink.mask, size, 90)
    axis = axis_of(ways[0].share, ways[90].share if 90 in ways else 0.0)
    if not any(way.lines for way in ways.values()):
        return Upright(Orientation(0, 0.0, "none"), ink, size, (), len(glyphs), 0.0)
    found = _decide(axis, ways, ink, gray, reader)
    way = ways.get(found.angle % 180) or _read_way(ink.mask, size, found.angle % 180)
    lines = way.lines
    if found.angle >= 180:
        lines = tuple(half_turn(line, way.mask.shape) for line in way.lines)
    mask = upright(ink.mask, found.angle)
    return Upright(found, Ink(mask, ink.reduction), size, lines, len(glyphs), way.skew)


def half_turn(line: Line, shape: tuple[int, ...]) -> Line:
    """The line as it lies in a mask of `shape` turned half a turn: its band flips too."""
    height, width = shape[:2]
    return Line(width - line.x - line.width, height - line.y - line.height, line.width,
                line.height, line.height - 1 - line.core_bottom, line.height - 1 - line.core_top)


def _read_way(mask: np.ndarray, size: float, turn: int) -> _Way:
    """The page's mask turned back by `turn` and levelled, and the lines across it."""
    turned = upright(mask, turn)
    skew = skew_of_ink(turned)
    levelled = level(turned, skew)
    across = lines_along(levelled, size)
    return _Way(skew, across.share, across.lines, turn, levelled)


def _decide(axis: int | None, ways: dict[int, _Way], ink: Ink, gray: np.ndarray,
            reader: LineReader | None) -> Orientation:
    if axis is not None:
        found = by_ascent(axis, ascent(ways[axis].mask, ways[axis].lines))
        if found.confidence >= 1.0 or reader is None:
            return found
        candidates = [axis, axis + 180]
    else:
        if reader is None:
            return Orientation(0, 0.0, "lines")
        candidates = [0, 90, 180, 270]
    return _ask_engine(candidates, ways, ink, gray, reader)


def _ask_engine(candidates: list[int], ways: dict[int, _Way], ink: Ink, gray: np.ndarray,
                reader: LineReader) -> Orientation:
    """Read the longest lines in each candidate way up, one line at a time, until one
    way up leads by the margin: on most pages the first line settles it."""
    crops = {axis: _samples(gray, ink.reduction, ways[axis]) if axis in ways else []
             for axis in {angle % 180 for angle in candidates}}
    samples = {angle: [upright(c, 180) if angle >= 180 else c for c in crops[angle % 180]]
               for angle in candidates}
    readings: dict[int, list[float]] = {angle: [] for angle in candidates}
    found = Orientation(0, 0.0, "engine")
    for rank in range(SAMPLE_LINES):
        for angle in candidates:
            if rank < len(samples[angle]):
                readings[angle].append(reader.line_confidence(samples[angle][rank]))
        found = by_engine({a: float(np.mean(r)) if r else 0.0 for a, r in readings.items()})
        if found.confidence >= 1.0:
            break
    return found


def _samples(gray: np.ndarray, reduction: float, way: _Way) -> list[np.ndarray]:
    """The way's longest lines, cut from the page as the way turned and levelled it.

    The way's lines were found on the mask turned by a quarter or not and levelled; each
    crop is cut straight from the page by the same turn and levelling, so a candidate and
    its opposite differ only by a half turn of the crops, and the whole page is never
    warped for a few lines.
    """
    page = upright(gray, way.turn)
    lines = sorted(way.lines, key=lambda line: -line.width)[:SAMPLE_LINES]
    crops = [_sample(page, reduction, way.skew, line) for line in lines]
    return [c for c in crops if c.size]


def _sample(page: np.ndarray, reduction: float, skew: float, line: Line) -> np.ndarray:
    """One line cut from the page with a margin, no longer than SAMPLE_LENGTH heights,
    brought to SAMPLE_HEIGHT: enough for the engine to judge, cheap to read, and tiny
    print enlarged so that the engine can read it at all.

    The line's box is in the levelled mask; the crop is read out of the unlevelled page
    by one affine warp that levels and cuts at once (and enlarges small print).
    """
    h, w = page.shape[:2]
    pad = line.height * 0.3
    top, left = max(0.0, (line.y - pad) * reduction), max(0.0, (line.x - pad) * reduction)
    bottom = min(h, (line.y + line.height + pad) * reduction)
    right = min(w, (line.x + line.width + pad) * reduction, left + SAMPLE_LENGTH * (bottom - top))
    if bottom - top < 1 or right - left < 1:
        return np.zeros((0, 0), page.dtype)
    # Large print is cut at its size and reduced by area; warping it down would alias.
    factor = max(1.0, SAMPLE_HEIGHT / (bottom - top))
    # Page -> levelled page (turned back by the skew about its centre) -> crop -> scale.
    levels = np.vstack([cv2.getRotationMatrix2D((w / 2, h / 2), -skew, 1.0), [0, 0, 1]])
    cuts = np.array([[factor, 0, -left * factor], [0, factor, -top * factor], [0, 0, 1]])
    size = (max(1, round((right - left) * factor)), max(1, round((bottom - top) * factor)))
    crop = cv2.warpAffine(page, (cuts @ levels)[:2], size, flags=cv2.INTER_CUBIC,
                          borderMode=cv2.BORDER_REPLICATE)
    if crop.shape[0] != SAMPLE_HEIGHT:
        scale = SAMPLE_HEIGHT / crop.shape[0]
        crop = cv2.resize(crop, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    return np.ascontiguousarray(crop)
