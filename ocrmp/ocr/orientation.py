"""Which way up a page is (0, 90, 180 or 270°), decided before anything else is done to it.

The page's own lines decide first, from the page's one ink analysis: text lines run along
the reading direction (`ink.lines_along`), and an upright line carries more ink above its
x-height band than below (`ink.ascent`). Where either is not clear (capitals and digits
only, large print, a page of few lines), the engine settles it on a few of the page's
lines, each read in the ways up still in question: text upside down or sideways reads with
a far lower confidence. tesseract's own detection (OSD) was measured beside this and is
slower by an order of magnitude for the same answers (bench/orientation.py).

Turning a page can lose all of its text, so a page is turned only when the decision is
sure (`turn_by`): an unsure page is read as it is and flagged, unless its lines surely run
down the page, which no page can be read as.

Angles follow OpenCV's convention, as skew does: how far the content is turned
counter-clockwise. Turning it back clockwise by that angle makes it upright.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import cv2
import numpy as np

from ocrmp.ocr.ink import Bar, Ink, ascent, level, lines_along, skew_of, turn
from ocrmp.ocr.page import Orientation

# One direction holding this many times the other's share of ink in lines is the axis;
# a page is turned a quarter on the lines alone only when they run down it this surely.
AXIS_RATIO, AXIS_SURE = 1.5, 3.0
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
UNCERTAIN = 0.5  # below this confidence a decision is not acted on


class LineReader(Protocol):
    def line_confidence(self, image: np.ndarray) -> float:
        """Mean word confidence (0-100) of one line of text."""
        ...


@dataclass(frozen=True)
class _Way:
    """The mask read one way (0: as it is, 90: turned a quarter), levelled."""

    skew: float
    share: float  # of the ink in lines across
    lines: tuple[Bar, ...]
    turn: int  # 0 or 90: how far the mask was turned back before levelling
    mask: np.ndarray  # turned and levelled: the lines' coordinates are in it


def uncertain(found: Orientation) -> bool:
    return found.method != "none" and found.confidence < UNCERTAIN


def axis_of(horizontal: float, vertical: float, ratio: float = AXIS_RATIO) -> int | None:
    """0 for lines across the page, 90 for lines down it, None when it is not clear."""
    if max(horizontal, vertical) < MIN_LINE_SHARE:
        return None
    if horizontal >= ratio * vertical:
        return 0
    if vertical >= ratio * horizontal:
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


def turn_by(found: Orientation, shares: tuple[float, float]) -> int:
    """How far the page is actually turned back: the decision's angle when it is sure;
    unsure, a quarter turn only when the lines surely run down the page (read as it is,
    it would read as nothing), else none."""
    if not uncertain(found):
        return found.angle
    if found.angle % 180 == 90 and axis_of(*shares, ratio=AXIS_SURE) == 90:
        return found.angle
    return 0


def upright(ink: Ink, gray: np.ndarray, reader: LineReader | None) -> tuple[Orientation, Ink]:
    """The orientation of the page `gray` (as decided, and as acted on: `angle` is how far
    the page is turned back) and its analysis `ink` turned upright, levelled, its lines
    found.

    Each way the lines might run is levelled first by its own skew: a long line skewed
    by two degrees rises more than its height and would close into no bar at all.
    """
    if not ink.has_text:
        return Orientation(0, 0.0, "none"), ink
    ways = {0: _read_way(ink.mask, ink.size, 0)}
    # Half the ink in lines across: no page turned sideways gives that (its letters,
    # closed across, merge from line to line into blocks), so the other way is spared.
    if ways[0].share < SURELY_ACROSS:
        ways[90] = _read_way(ink.mask, ink.size, 90)
    shares = (ways[0].share, ways[90].share if 90 in ways else 0.0)
    if not any(way.lines for way in ways.values()):
        return Orientation(0, 0.0, "none"), ink
    found = _decide(axis_of(*shares), ways, ink, gray, reader)
    angle = turn_by(found, shares)
    acted = Orientation(angle, found.confidence, found.method)
    way = ways.get(angle % 180) or _read_way(ink.mask, ink.size, angle % 180)
    lines = way.lines
    levelled = way.mask
    if angle >= 180:
        lines = tuple(half_turn(line, way.mask.shape) for line in way.lines)
        levelled = turn(way.mask, 180)
    return acted, ink.turned(angle).with_lines(way.skew, levelled, lines)


def half_turn(line: Bar, shape: tuple[int, ...]) -> Bar:
    """The line as it lies in a mask of `shape` turned half a turn: its band flips too."""
    height, width = shape[:2]
    return Bar(width - line.x - line.width, height - line.y - line.height, line.width,
               line.height, line.height - 1 - line.core_bottom, line.height - 1 - line.core_top)


def _read_way(mask: np.ndarray, size: float, quarter: int) -> _Way:
    """The page's mask turned back by `quarter` and levelled, and the lines across it."""
    turned = turn(mask, quarter)
    skew = skew_of(turned)
    levelled = level(turned, skew)
    share, lines = lines_along(levelled, size)
    return _Way(skew, share, lines, quarter, levelled)


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
    samples = {angle: [turn(c, 180) if angle >= 180 else c for c in crops[angle % 180]]
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
    page = turn(gray, way.turn)
    lines = sorted(way.lines, key=lambda line: -line.width)[:SAMPLE_LINES]
    crops = [_sample(page, reduction, way.skew, line) for line in lines]
    return [c for c in crops if c.size]


def _sample(page: np.ndarray, reduction: float, skew: float, line: Bar) -> np.ndarray:
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
