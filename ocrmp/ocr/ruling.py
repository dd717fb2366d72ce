"""A ledger's ruling lines: found on the grey page, painted out, and the pieces of them
that the ruling missed (broken, skewed or faint rules) erased before the text is read.

Images are uint8 grayscale, ink dark on light paper, background already flat.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

RULE_GREY = 215  # on a flattened page, rules are found in anything darker than this


@dataclass(frozen=True)
class RulingLines:
    """Centres of a ledger's ruling lines, in pixels of the cleaned image."""

    rows_y: list[int]
    cols_x: list[int]


def _line_length(img: np.ndarray) -> int:
    return max(15, max(img.shape) // 40)  # ~0.3 in at 300 dpi: longer than any glyph run


def _centres(profile: np.ndarray, minimum: float) -> list[int]:
    """Centres of the runs of `profile` at or above `minimum`: one per ruling line."""
    above = np.concatenate([[False], profile >= minimum, [False]])
    edges = np.flatnonzero(np.diff(above.astype(np.int8)))
    return [int((a + b - 1) // 2) for a, b in zip(edges[::2], edges[1::2], strict=True)]


def find_ruling_lines(img: np.ndarray, min_fraction: float = 0.06) -> RulingLines:
    """Ruling lines at least `min_fraction` of the page's longer side, on a grey (or
    binary) page whose background is flat.

    Eroding with a long thin kernel keeps only the middles of long straight runs of ink;
    what survives in quantity on one row (or column) is a ruled line. 6 % of the page
    (0.66 in on letter) is far beyond any run in text, yet short enough for the columns
    of a ledger holding only three rows. Any grey darker than RULE_GREY counts: a hairline
    rule printed grey is lighter than the threshold that separates text from paper.
    """
    # At half scale the erosions cost a quarter; taking the darkest of each 2x2 block
    # (not the mean) keeps a one-pixel hairline as dark as it was printed.
    half = cv2.erode(img, np.ones((2, 2), np.uint8))[::2, ::2]
    ink = cv2.threshold(half, RULE_GREY, 1, cv2.THRESH_BINARY_INV)[1]
    length = _line_length(half)
    minimum = min_fraction * max(half.shape) - length
    across = cv2.erode(ink, np.ones((1, length), np.uint8))
    down = cv2.erode(ink, np.ones((length, 1), np.uint8))
    rows = cv2.reduce(across, 1, cv2.REDUCE_SUM, dtype=cv2.CV_32S).ravel()
    cols = cv2.reduce(down, 0, cv2.REDUCE_SUM, dtype=cv2.CV_32S).ravel()
    return RulingLines(rows_y=[2 * y for y in _centres(rows, minimum)],
                       cols_x=[2 * x for x in _centres(cols, minimum)])


def _unrule_strip(strip: np.ndarray, length: int, bridge: int) -> np.ndarray:
    """Erase the horizontal line running through `strip`, keeping strokes that cross it.

    A stroke crossing the line has ink just above and below it: closing the line-free ink
    vertically bridges the gap, and those bridged pixels are kept.
    """
    # The rule in anything darker than RULE_GREY (a hairline is grey); the strokes that
    # cross it in ink only, or a letter's grey antialiasing would bridge the rule too.
    ink = cv2.threshold(strip, RULE_GREY, 255, cv2.THRESH_BINARY_INV)[1]
    strokes = cv2.threshold(strip, 127, 255, cv2.THRESH_BINARY_INV)[1]
    line = cv2.morphologyEx(ink, cv2.MORPH_OPEN, np.ones((1, length), np.uint8))
    # Take the ragged edge of a scanned line too, not just its straight core.
    line = cv2.bitwise_and(cv2.dilate(line, np.ones((3, 1), np.uint8)), ink)
    rest = cv2.bitwise_and(strokes, cv2.bitwise_not(line))
    bridged = cv2.morphologyEx(rest, cv2.MORPH_CLOSE, np.ones((bridge, 1), np.uint8))
    erase = cv2.bitwise_and(line, cv2.bitwise_not(bridged))
    return cv2.max(strip, erase)


def remove_ruling_lines(img: np.ndarray, ruling: RulingLines | None = None) -> np.ndarray:
    """Paint a page's ruling lines (grey or binary page) white; letters that cross them
    survive.

    Work happens only in a band around each line, found by `find_ruling_lines` unless
    given: a ledger page is mostly not ruling.
    """
    lines = find_ruling_lines(img) if ruling is None else ruling
    length = _line_length(img)
    band = max(6, max(img.shape) // 150)  # line thickness plus residual skew, both sides
    bridge = band + 1
    out = img.copy()
    for y in lines.rows_y:
        top, bottom = max(0, y - band), y + band + 1
        out[top:bottom] = _unrule_strip(out[top:bottom], length, bridge)
    for x in lines.cols_x:
        left, right = max(0, x - band), x + band + 1
        # Transposed, a vertical line is a horizontal one.
        out[:, left:right] = _unrule_strip(np.ascontiguousarray(out[:, left:right].T),
                                           length, bridge).T
    return out


def erase_remnants(img: np.ndarray, x_height: float) -> np.ndarray:
    """The grey page without vertical strokes taller than any glyph: pieces of a broken,
    skewed or faint column rule that `find_ruling_lines` did not find. Beside a cell's
    first letters such a piece joins them into one tall box, which tesseract misreads
    ("perätion" for "Donation")."""
    if x_height <= 0:
        return img
    _, ink = cv2.threshold(img, 0, 1, cv2.THRESH_BINARY_INV | cv2.THRESH_OTSU)
    length = max(15, round(REMNANT_X_HEIGHTS * x_height))
    tall = cv2.morphologyEx(ink, cv2.MORPH_OPEN, np.ones((length, 1), np.uint8))
    if not tall.any():
        return img
    # The stroke's grey edges too, or they are read as a thin "l" or "|".
    tall = cv2.dilate(tall, np.ones((3, 5), np.uint8))
    out = img.copy()
    out[tall > 0] = 255
    return out


# A glyph's tallest stroke (a bracket, an "f" with its descender) is under 2.2 x-heights.
REMNANT_X_HEIGHTS = 2.5
