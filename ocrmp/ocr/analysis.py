"""What a page's ink says before any recognition: glyph size, text lines, their direction.

One cheap pass over a reduced copy of the page (glyphs about 10-20 px): the ink mask,
its glyph-sized connected components, and the text lines found by closing the ink along
one direction, which merges the letters and words of a line into one long thin bar. The
orientation, the resolution and the confidence checks all read this one analysis.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

# Reduce until the longer side is under this: 150-200 dpi for a letter page, where the
# x-height of typed print is still ~10 px (the ascent needs that) and a component pass
# costs a few milliseconds.
ANALYSIS_MAX_SIDE = 2200
# A line bar is at least this many times longer than it is thick.
LINE_ELONGATION = 4.0
MIN_GLYPHS = 12  # fewer glyph-sized components than this: no text to speak of
SKEW_RANGE_DEG = 5.0
# Coarse-to-fine search: (half-width of the window, step) in degrees.
SKEW_SEARCH = ((SKEW_RANGE_DEG, 0.5), (0.5, 0.1), (0.1, 0.02))
SKEW_MAX_SIDE = 1100  # px: the profile is searched on a mask no larger
MAX_CORE_SHARE = 0.75  # an x-height band filling more of its line is two lines joined
MIN_MEASURED_LINES = 3  # fewer well-formed lines than this: the x-height is not measured
MIN_OUTER_INK = 0.04  # share of a line's ink outside its x-height band worth judging by
SEGMENT_GAP = 1.2  # glyph sizes: wider than a typewriter's word space, narrower than a
# table's column gap (its cells are padded on both sides)
JOINED_ASPECT = 2.5  # a component this much wider than tall is letters joined up
MIN_STROKE_EXTENT = 5  # px of the analysis mask: smaller components are specks
RULE_GLYPHS = 4  # a straight run of ink this many glyphs long is a rule


@dataclass(frozen=True)
class Line:
    """A text line of the analysis mask: its box, and the rows its x-height band spans."""

    x: int
    y: int
    width: int
    height: int
    core_top: int  # relative to y
    core_bottom: int  # inclusive

    @property
    def core(self) -> int:
        return self.core_bottom - self.core_top + 1


@dataclass(frozen=True)
class Ink:
    """The reduced ink mask of a page (ink 1, paper 0) and what it was reduced by."""

    mask: np.ndarray
    reduction: float  # page pixels per mask pixel (1, 2, 4, ...)


@dataclass(frozen=True)
class Direction:
    """How much of the ink lies in line bars running one way, and those bars."""

    share: float
    lines: tuple[Line, ...]


def reduce(img: np.ndarray, max_side: int = ANALYSIS_MAX_SIDE) -> tuple[np.ndarray, float]:
    """A Gaussian-pyramid copy with its longer side under max_side, and the factor."""
    factor = 1.0
    while max(img.shape[:2]) > max_side:
        img = cv2.pyrDown(img)
        factor *= 2
    return img, factor


def ink_of(flat: np.ndarray) -> Ink:
    """Otsu's threshold on the reduced page, its background already divided out
    (`preprocess.flatten`): paper is white there, so stains and lighting are not ink."""
    small, factor = reduce(flat)
    _, mask = cv2.threshold(small, 0, 1, cv2.THRESH_BINARY_INV | cv2.THRESH_OTSU)
    return Ink(without_rules(mask), factor)


def _long_runs(mask: np.ndarray, length: int) -> np.ndarray:
    across = cv2.morphologyEx(mask, cv2.MORPH_OPEN, np.ones((1, length), np.uint8))
    down = cv2.morphologyEx(mask, cv2.MORPH_OPEN, np.ones((length, 1), np.uint8))
    return cv2.bitwise_or(across, down)


def without_rules(mask: np.ndarray) -> np.ndarray:
    """The mask without ruling lines and underlines: straight runs of ink several glyphs
    long, which no stroke of a glyph is.

    A ledger's rules would otherwise join every cell's text into one grid, and an
    underline under a line would pass for its x-height band. Runs a thirtieth of the page
    long say whether there are rules at all; most deeds have none, and are spared the
    glyph measurement that sets the finer length.
    """
    if not _long_runs(mask, max(15, max(mask.shape) // 30)).any():
        return mask
    size = glyph_size(glyph_components(component_stats(mask), mask.shape))
    if not size:
        return mask
    rules = cv2.dilate(_long_runs(mask, max(15, round(RULE_GLYPHS * size))),
                       np.ones((3, 3), np.uint8))
    return np.where(rules > 0, np.uint8(0), mask).astype(np.uint8)


def component_stats(mask: np.ndarray) -> np.ndarray:
    """(left, top, width, height, area) of each 8-connected ink component.

    Labelled in 16 bits, which OpenCV does three times faster than in 32 on a page mask;
    a mask with more components than that holds (noise, a halftone) is labelled again in
    32 bits, OpenCV refusing to overflow.
    """
    try:
        _, _, stats, _ = cv2.connectedComponentsWithStatsWithAlgorithm(
            mask, 8, cv2.CV_16U, cv2.CCL_DEFAULT)
    except cv2.error:
        _, _, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    return stats[1:]


def glyph_components(stats: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """The components the size of a glyph: not specks, not rules, frames or pictures."""
    size = np.maximum(stats[:, cv2.CC_STAT_WIDTH], stats[:, cv2.CC_STAT_HEIGHT])
    return stats[(size >= 3) & (size < max(shape) / 20)]


def glyph_size(glyphs: np.ndarray) -> float:
    """The median glyph's longer side, in mask pixels; 0 without text."""
    if len(glyphs) < MIN_GLYPHS:
        return 0.0
    sides = np.maximum(glyphs[:, cv2.CC_STAT_WIDTH], glyphs[:, cv2.CC_STAT_HEIGHT])
    return float(np.median(sides))


def _core(profile: np.ndarray) -> tuple[int, int]:
    """The x-height band of a line: the rows holding at least half the line's densest row."""
    rows = np.flatnonzero(profile >= 0.5 * profile.max())
    return int(rows[0]), int(rows[-1])


def lines_along(mask: np.ndarray, size: float, horizontal: bool = True) -> Direction:
    """Line bars running horizontally (or vertically) and the share of ink they hold."""
    length = max(3, round(size))
    kernel = np.ones((1, length) if horizontal else (length, 1), np.uint8)
    stats = component_stats(cv2.morphologyEx(mask, cv2.MORPH_CLOSE, kernel))
    along = stats[:, cv2.CC_STAT_WIDTH if horizontal else cv2.CC_STAT_HEIGHT]
    across = stats[:, cv2.CC_STAT_HEIGHT if horizontal else cv2.CC_STAT_WIDTH]
    thin = (across >= 0.5 * size) & (across <= 2.5 * size) & (along >= LINE_ELONGATION * across)
    total = float(stats[:, cv2.CC_STAT_AREA].sum())
    share = float(stats[thin, cv2.CC_STAT_AREA].sum()) / total if total else 0.0
    if not horizontal:
        return Direction(share, ())
    lines = []
    for x, y, w, h, _ in stats[thin]:
        profile = mask[y:y + h, x:x + w].sum(axis=1)
        if profile.max() > 0:
            top, bottom = _core(profile)
            lines.append(Line(int(x), int(y), int(w), int(h), top, bottom))
    return Direction(share, tuple(lines))


def segments(mask: np.ndarray, size: float) -> np.ndarray:
    """(left, top, width, height, area) of the mask's pieces of text lines: glyphs closed
    across their letter and word spaces (`segment_gap`), not across the wider gaps
    between a table's columns."""
    length = segment_gap(size)
    stats = component_stats(cv2.morphologyEx(mask, cv2.MORPH_CLOSE, np.ones((1, length),
                                                                             np.uint8)))
    height = stats[:, cv2.CC_STAT_HEIGHT]
    return stats[(height >= 0.4 * size) & (height <= 3 * size)]


def segment_gap(size: float) -> int:
    """The widest space `segments` closes: a word space of any face is narrower."""
    return max(3, round(SEGMENT_GAP * size))


def ascent(mask: np.ndarray, lines: tuple[Line, ...]) -> float:
    """(ink above the x-height band - ink below it) / both, over every line: in [-1, 1].

    Latin script has more ascenders, capitals and accents than descenders, so an upright
    line carries more ink above its x-height band than below; a line upside down, less.
    Lines with almost nothing outside the band ("nous verrons une course") say nothing: 0.
    """
    above = below = total = 0.0
    for line in lines:
        if line.core > MAX_CORE_SHARE * line.height:
            continue  # two lines joined: their bands say nothing of up and down
        profile = mask[line.y:line.y + line.height, line.x:line.x + line.width].sum(axis=1)
        above += float(profile[:line.core_top].sum())
        below += float(profile[line.core_bottom + 1:].sum())
        total += float(profile.sum())
    if not above + below or above + below < MIN_OUTER_INK * total:
        return 0.0
    return (above - below) / (above + below)


def _profile_score(xs: np.ndarray, ys: np.ndarray, angle: float, bins: int) -> float:
    """Sharpness of the row profile once ink is sheared back by `angle`.

    Text lines concentrate ink in few rows when level; the sum of squared row counts is
    largest then. Shearing points stands in well for rotating at angles under 5°.
    """
    rows = (ys + xs * np.float32(np.tan(np.radians(angle)))).astype(np.int32)
    counts = np.bincount(rows, minlength=bins).astype(np.float64)
    return float(counts @ counts)


def skew_of_ink(mask: np.ndarray) -> float:
    """Skew in degrees within ±SKEW_RANGE_DEG of the lines of an ink mask (ink nonzero),
    by projection profile: positive when the content is turned counter-clockwise."""
    while max(mask.shape) > SKEW_MAX_SIDE:  # every other pixel: the angle is the same
        mask = mask[::2, ::2]
    ys, xs = np.nonzero(mask)
    if len(xs) < 50:  # a blank page has no lines to level
        return 0.0
    h, w = mask.shape
    fx = xs.astype(np.float32) - w / 2
    fy = ys.astype(np.float32) + w / 2  # sheared rows stay within [0, h + w) under ±45°
    best = 0.0
    for half, step in SKEW_SEARCH:
        angles = best + np.arange(-half, half + step / 2, step)
        scores = [_profile_score(fx, fy, float(a), h + w) for a in angles]
        best = float(angles[int(np.argmax(scores))])
    return round(best, 2)


def level(mask: np.ndarray, skew: float) -> np.ndarray:
    """The mask with its skew undone (nearest neighbour, paper in the corners)."""
    if abs(skew) < 0.05:
        return mask
    h, w = mask.shape
    matrix = cv2.getRotationMatrix2D((w / 2, h / 2), -skew, 1.0)
    return cv2.warpAffine(mask, matrix, (w, h), flags=cv2.INTER_NEAREST,
                          borderMode=cv2.BORDER_CONSTANT, borderValue=0)


def x_height(lines: tuple[Line, ...]) -> float:
    """The median x-height of the lines, in mask pixels; 0 without enough lines to say.

    Only lines whose band is well inside them count: where blur or tight spacing has
    joined two lines into one bar, the "band" spans both and would pass for huge print.
    """
    cores = [line.core for line in lines if line.core <= MAX_CORE_SHARE * line.height]
    return float(np.median(cores)) if len(cores) >= MIN_MEASURED_LINES else 0.0


def cursive_share(mask: np.ndarray) -> float:
    """Share of the ink in joined-up strokes: components at least `JOINED_ASPECT` times
    wider than tall. Typed and printed glyphs stand apart, or touch in twos; handwriting
    joins the letters of a word. Measured without the median glyph, which on a page of
    handwriting is itself a handwritten word. 0 without ink."""
    stats = component_stats(mask)
    width, height = stats[:, cv2.CC_STAT_WIDTH], stats[:, cv2.CC_STAT_HEIGHT]
    area = stats[:, cv2.CC_STAT_AREA].astype(np.float64)
    marks = (height >= MIN_STROKE_EXTENT) | (width >= MIN_STROKE_EXTENT)  # not specks
    joined = marks & (width >= JOINED_ASPECT * height) & (height >= MIN_STROKE_EXTENT)
    total = float(area[marks].sum())
    return float(area[joined].sum()) / total if total else 0.0
