"""The page's ink, analysed once: glyph size, components, text lines, skew, pieces of lines.

One pass over a reduced copy of the flattened page (glyphs about 10-20 px): the ink mask
without its rules, its connected components labelled once, the glyph-sized ones and their
median size. Turning the page upright turns the analysis with it (`Ink.turned`: the mask
and the component boxes, nothing labelled again); levelling it finds the text lines (ink
closed along the line, which merges a line's letters into one long thin bar) and their
x-height band, and the pieces of lines (ink closed across word spaces, not across the
gaps between columns). Orientation, resolution, layout, the ledger's plan, the words
left unread and the handwriting flag all read this one analysis.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import cv2
import numpy as np

from ocrmp.ocr.geometry import Box

# Reduce until the longer side is under this: 150-200 dpi for a letter page, where the
# x-height of typed print is still ~10 px (the ascent needs that) and a component pass
# costs a few milliseconds.
ANALYSIS_MAX_SIDE = 2200
LINE_ELONGATION = 4.0  # a line bar is at least this many times longer than it is thick
MIN_GLYPHS = 12  # fewer glyph-sized components than this: no text to speak of
SKEW_RANGE_DEG = 5.0
# Coarse-to-fine search: (half-width of the window, step) in degrees.
SKEW_SEARCH = ((SKEW_RANGE_DEG, 0.5), (0.5, 0.1), (0.1, 0.02))
SKEW_MAX_SIDE = 1100  # px: the profile is searched on a mask no larger
MAX_CORE_SHARE = 0.75  # an x-height band filling more of its line is two lines joined
MIN_MEASURED_LINES = 3  # fewer well-formed lines than this: the x-height is not measured
MIN_OUTER_INK = 0.04  # share of a line's ink outside its x-height band worth judging by
# Glyph sizes: wider than a typewriter's word space, narrower than a table's column gap
# (its cells are padded on both sides).
SEGMENT_GAP = 1.2
RULE_GLYPHS = 4  # a straight run of ink this many glyphs long is a rule

_TURN_UPRIGHT = {90: cv2.ROTATE_90_CLOCKWISE, 180: cv2.ROTATE_180,
                 270: cv2.ROTATE_90_COUNTERCLOCKWISE}


@dataclass(frozen=True)
class Bar:
    """A text line of the levelled mask: its box, and the rows its x-height band spans."""

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
    """The page's ink mask (ink 1, paper 0) reduced by `reduction`, and what it holds.

    `stats` are the mask's components, (left, top, width, height, area) each; `glyphs`
    the glyph-sized ones; `size` the median glyph's longer side (0: no text). Once the
    page is upright: `skew`, the degrees its lines run askew, and `lines`, the text lines
    of the mask levelled by it.
    """

    mask: np.ndarray
    reduction: float
    stats: np.ndarray
    glyphs: np.ndarray
    size: float
    skew: float = 0.0
    lines: tuple[Bar, ...] = ()
    levelled: np.ndarray | None = field(default=None, repr=False)

    @property
    def has_text(self) -> bool:
        return self.size > 0

    def turned(self, angle: int) -> Ink:
        """The analysis of the page turned back by `angle` (a multiple of 90)."""
        if angle % 360 == 0:
            return self
        height, width = self.mask.shape[:2]
        return replace(self, mask=turn(self.mask, angle),
                       stats=_turn_stats(self.stats, angle, width, height),
                       glyphs=_turn_stats(self.glyphs, angle, width, height),
                       skew=0.0, lines=(), levelled=None)

    def with_lines(self, skew: float, levelled: np.ndarray, lines: tuple[Bar, ...]) -> Ink:
        return replace(self, skew=skew, levelled=levelled, lines=lines)

    def x_height(self) -> float:
        """The median x-height of the lines in page pixels; 0 when not measured."""
        return x_height(self.lines) * self.reduction

    def glyph_boxes(self) -> list[Box]:
        """Each glyph-sized component's box, in pixels of the upright page."""
        r = self.reduction
        return [Box(round(x * r), round(y * r), round((x + w) * r), round((y + h) * r))
                for x, y, w, h, _ in self.glyphs]

    def pieces(self, gap_glyphs: float = SEGMENT_GAP) -> np.ndarray:
        """Pieces of text lines of the levelled mask: glyphs closed across spaces up to
        `gap_glyphs` glyph sizes, as (left, top, width, height, area) in mask pixels."""
        if not self.size:
            return np.zeros((0, 5), np.int32)
        mask = self.levelled if self.levelled is not None else self.mask
        return segments(mask, gap_glyphs * self.size, self.size)


def turn(img: np.ndarray, angle: int) -> np.ndarray:
    """The image turned back by `angle` (a multiple of 90), losslessly."""
    return cv2.rotate(img, _TURN_UPRIGHT[angle % 360]) if angle % 360 in _TURN_UPRIGHT else img


def _turn_stats(stats: np.ndarray, angle: int, width: int, height: int) -> np.ndarray:
    """Component boxes of a (width x height) mask as they lie once it is turned back by
    `angle` the way `turn` turns it."""
    out = stats.copy()
    left, top, w, h = (stats[:, i] for i in range(4))
    angle %= 360
    if angle == 90:  # turned clockwise: (x, y) -> (height - 1 - y, x)
        out[:, 0], out[:, 1], out[:, 2], out[:, 3] = height - top - h, left, h, w
    elif angle == 180:
        out[:, 0], out[:, 1] = width - left - w, height - top - h
    elif angle == 270:  # turned counter-clockwise: (x, y) -> (y, width - 1 - x)
        out[:, 0], out[:, 1], out[:, 2], out[:, 3] = top, width - left - w, h, w
    return out


def reduce(img: np.ndarray, max_side: int = ANALYSIS_MAX_SIDE) -> tuple[np.ndarray, float]:
    """A Gaussian-pyramid copy with its longer side under max_side, and the factor."""
    factor = 1.0
    while max(img.shape[:2]) > max_side:
        img = cv2.pyrDown(img)
        factor *= 2
    return img, factor


def analyse(flat: np.ndarray) -> Ink:
    """The analysis of a flattened page (`clean.flatten`: paper white whatever the
    lighting): Otsu's threshold of the reduced page, its rules taken out, its components."""
    small, factor = reduce(flat)
    _, mask = cv2.threshold(small, 0, 1, cv2.THRESH_BINARY_INV | cv2.THRESH_OTSU)
    stats = component_stats(mask)
    glyphs = glyph_components(stats, mask.shape)
    size = glyph_size(glyphs)
    ruled = _rules(mask, size)
    if ruled is not None:
        mask = np.where(ruled > 0, np.uint8(0), mask).astype(np.uint8)
        stats = component_stats(mask)
        glyphs = glyph_components(stats, mask.shape)
        size = glyph_size(glyphs)
    return Ink(mask, factor, stats, glyphs, size)


def _long_runs(mask: np.ndarray, length: int) -> np.ndarray:
    across = cv2.morphologyEx(mask, cv2.MORPH_OPEN, np.ones((1, length), np.uint8))
    down = cv2.morphologyEx(mask, cv2.MORPH_OPEN, np.ones((length, 1), np.uint8))
    return cv2.bitwise_or(across, down)


def _rules(mask: np.ndarray, size: float) -> np.ndarray | None:
    """Ruling lines and underlines: straight runs of ink several glyphs long, which no
    stroke of a glyph is; None on a page without any.

    A ledger's rules would otherwise join every cell's text into one grid, and an
    underline under a line would pass for its x-height band. Runs a thirtieth of the page
    long say whether there are rules at all; most deeds have none.
    """
    if not size or not _long_runs(mask, max(15, max(mask.shape) // 30)).any():
        return None
    return cv2.dilate(_long_runs(mask, max(15, round(RULE_GLYPHS * size))),
                      np.ones((3, 3), np.uint8))


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


def lines_along(mask: np.ndarray, size: float,
                horizontal: bool = True) -> tuple[float, tuple[Bar, ...]]:
    """The share of the ink in line bars running horizontally (or vertically), and the
    horizontal bars with their x-height bands."""
    length = max(3, round(size))
    kernel = np.ones((1, length) if horizontal else (length, 1), np.uint8)
    stats = component_stats(cv2.morphologyEx(mask, cv2.MORPH_CLOSE, kernel))
    along = stats[:, cv2.CC_STAT_WIDTH if horizontal else cv2.CC_STAT_HEIGHT]
    across = stats[:, cv2.CC_STAT_HEIGHT if horizontal else cv2.CC_STAT_WIDTH]
    thin = (across >= 0.5 * size) & (across <= 2.5 * size) & (along >= LINE_ELONGATION * across)
    total = float(stats[:, cv2.CC_STAT_AREA].sum())
    share = float(stats[thin, cv2.CC_STAT_AREA].sum()) / total if total else 0.0
    if not horizontal:
        return share, ()
    bars = []
    for x, y, w, h, _ in stats[thin]:
        profile = mask[y:y + h, x:x + w].sum(axis=1)
        if profile.max() > 0:
            top, bottom = _core(profile)
            bars.append(Bar(int(x), int(y), int(w), int(h), top, bottom))
    return share, tuple(bars)


def segments(mask: np.ndarray, gap: float, size: float) -> np.ndarray:
    """(left, top, width, height, area) of the mask's pieces of text lines: glyphs closed
    across spaces up to `gap` mask pixels, kept when as tall as text of `size`."""
    length = max(3, round(gap))
    stats = component_stats(cv2.morphologyEx(mask, cv2.MORPH_CLOSE,
                                             np.ones((1, length), np.uint8)))
    height = stats[:, cv2.CC_STAT_HEIGHT]
    return stats[(height >= 0.4 * size) & (height <= 3 * size)]


def ascent(mask: np.ndarray, lines: tuple[Bar, ...]) -> float:
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


def skew_of(mask: np.ndarray) -> float:
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


def x_height(lines: tuple[Bar, ...]) -> float:
    """The median x-height of the lines, in mask pixels; 0 without enough lines to say.

    Only lines whose band is well inside them count: where blur or tight spacing has
    joined two lines into one bar, the "band" spans both and would pass for huge print.
    """
    cores = [line.core for line in lines if line.core <= MAX_CORE_SHARE * line.height]
    return float(np.median(cores)) if len(cores) >= MIN_MEASURED_LINES else 0.0
