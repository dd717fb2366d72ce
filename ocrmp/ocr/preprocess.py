"""Page cleaning before OCR: numpy and OpenCV only, ~100 ms for a 300-dpi letter page.

Images are uint8 grayscale, ink dark on light paper. The steps run in the order
`clean_page` calls them: border removal first (deskewing would otherwise rotate the
scanner's black edges into the page), deskew, background normalisation (which makes a
single global threshold good enough), binarisation, despeckle and, for index ledgers,
ruling-line removal. Skew follows OpenCV's convention: a positive angle means the content
is rotated counter-clockwise on screen.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import cv2
import numpy as np

from ocrmp.ocr.analysis import skew_of_ink
from ocrmp.ocr.ruling import RulingLines, find_ruling_lines, remove_ruling_lines
from ocrmp.vocabulary import MODES, Kind

INK, PAPER = 0, 255
THUMBNAIL_MAX_SIDE = 1100
# Rotating costs ~20 ms and softens glyphs; under this a line drifts < 2 px per page width.
MIN_DESKEW_DEG = 0.05


@dataclass(frozen=True)
class CleanedPage:
    image: np.ndarray
    skew_deg: float
    ruling: RulingLines | None
    timings_ms: dict[str, float] = field(default_factory=dict)


# --------------------------------------------------------------------------- helpers


def thumbnail(img: np.ndarray) -> np.ndarray:
    """A Gaussian-pyramid copy no larger than ~1,100 px (75 dpi for a 300-dpi letter page).

    Border, skew and background estimates all work at this scale: cheap, and the text is
    still resolved into lines. pyrDown is ~5x faster than INTER_AREA and just as smooth.
    """
    small = img
    while max(small.shape) > THUMBNAIL_MAX_SIDE:
        small = cv2.pyrDown(small)
    return small


def _enlarge(img: np.ndarray, shape: tuple[int, ...], nearest: bool = False) -> np.ndarray:
    mode = cv2.INTER_NEAREST if nearest else cv2.INTER_LINEAR
    return cv2.resize(img, (shape[1], shape[0]), interpolation=mode)


def _ink_mask(img: np.ndarray) -> np.ndarray:
    """Otsu's threshold, ink as 255: the form every mask below is computed in."""
    _, mask = cv2.threshold(img, 0, 255, cv2.THRESH_BINARY_INV | cv2.THRESH_OTSU)
    return mask


def _paper_level(img: np.ndarray) -> int:
    """The paper's grey: most of a page is paper, and the brightest part of it is."""
    step = max(1, max(img.shape) // 400)
    return int(np.percentile(img[::step, ::step], 90))


# --------------------------------------------------------------------------- borders


def _touches_edge(stats: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    left, top = stats[:, cv2.CC_STAT_LEFT], stats[:, cv2.CC_STAT_TOP]
    right = left + stats[:, cv2.CC_STAT_WIDTH]
    bottom = top + stats[:, cv2.CC_STAT_HEIGHT]
    return (left == 0) | (top == 0) | (right == shape[1]) | (bottom == shape[0])


def _border_mask_small(small: np.ndarray) -> np.ndarray:
    """255 where the scanner saw its own lid: dark regions touching the image edge.

    Text never reaches the edge of a scan, so connectivity to the edge is what tells a
    border from ink, not darkness alone (faded borders and bold ink overlap in grey).
    """
    dark = (small < _paper_level(small) * 0.5).astype(np.uint8)
    _, labels, stats, _ = cv2.connectedComponentsWithStats(dark, connectivity=4)
    edge = _touches_edge(stats, small.shape)
    edge[0] = False  # label 0 is the paper
    mask = (edge[labels] * 255).astype(np.uint8)
    # Blur and JPEG leave a grey rim around the border; grow over it.
    return cv2.dilate(mask, np.ones((3, 3), np.uint8))


def _paint(img: np.ndarray, mask_small: np.ndarray, level: int) -> np.ndarray:
    """`img` with the (enlarged) mask painted in `level`: a max, since borders are dark."""
    paint = np.minimum(mask_small, np.uint8(level))
    return cv2.max(img, _enlarge(paint, img.shape, nearest=True))


def remove_borders(img: np.ndarray) -> np.ndarray:
    """Paint dark scanner borders with the paper's grey; the rest is untouched."""
    mask = _border_mask_small(thumbnail(img))
    if not mask.any():
        return img
    return _paint(img, mask, _paper_level(img))


# --------------------------------------------------------------------------- skew


def _skew_small(small: np.ndarray, background: np.ndarray) -> float:
    # Flatten first: Otsu on a stained or unevenly lit page takes the shadows for ink.
    return skew_of_ink(_ink_mask(_divide(small, background)))


def estimate_skew(img: np.ndarray) -> float:
    """Skew in degrees within ±5°, by projection profile on the thumbnail."""
    small = thumbnail(img)
    return _skew_small(small, _background_small(small))


def deskew(img: np.ndarray, angle: float, *, binary: bool = False) -> np.ndarray:
    """Undo a skew of `angle` degrees (as `estimate_skew` reports it).

    A binary page is rotated by nearest neighbour (twice as fast, and stays binary) with
    paper in the corners; a grey one bilinearly, its edge replicated so that the corners
    continue the paper's own shade.
    """
    if abs(angle) < MIN_DESKEW_DEG:
        return img
    h, w = img.shape
    matrix = cv2.getRotationMatrix2D((w / 2, h / 2), -angle, 1.0)
    if binary:
        return cv2.warpAffine(img, matrix, (w, h), flags=cv2.INTER_NEAREST,
                              borderMode=cv2.BORDER_CONSTANT, borderValue=PAPER)
    return cv2.warpAffine(img, matrix, (w, h), flags=cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_REPLICATE)


# --------------------------------------------------------------------------- background


def _background_small(small: np.ndarray) -> np.ndarray:
    """The page without its ink, at half the thumbnail's scale (~37 dpi)."""
    tiny = cv2.pyrDown(small)
    # ~0.25 in: wider than a glyph and a line's height, smaller than a stain.
    side = max(3, max(tiny.shape) // 44) | 1
    kernel = cv2.getStructuringElement(cv2.MORPH_RECT, (side, side))
    paper = cv2.morphologyEx(tiny, cv2.MORPH_CLOSE, kernel)
    return cv2.GaussianBlur(paper, (0, 0), side / 3)


def _divide(img: np.ndarray, background_small: np.ndarray) -> np.ndarray:
    background = _enlarge(np.maximum(background_small, 1), img.shape)
    return cv2.divide(img, background, scale=255)


def normalize_background(img: np.ndarray) -> np.ndarray:
    """Divide by the background: uneven light and stains become white paper."""
    return _divide(img, _background_small(thumbnail(img)))


# --------------------------------------------------------------------------- binarise


def binarize(img: np.ndarray) -> np.ndarray:
    """Global Otsu threshold: ink 0, paper 255.

    After `normalize_background` the paper is flat, which is the case Otsu handles best;
    Sauvola-style local thresholds cost several times more and, on blank paper, turn
    JPEG noise into specks that tesseract reads as punctuation.
    """
    _, out = cv2.threshold(img, 0, 255, cv2.THRESH_BINARY | cv2.THRESH_OTSU)
    return out


# --------------------------------------------------------------------------- despeckle


def despeckle(img: np.ndarray, max_area: int = 12, reach: int = 12) -> np.ndarray:
    """On a binary page, remove ink with under `max_area` ink px within `reach` px.

    The dot of an i and a French accent are small too, but sit right by their letter, so
    their neighbourhood holds plenty of ink: isolation, not size alone, marks noise. A
    box sum costs the same whatever the page holds, unlike labelling components.
    """
    if not 1 <= max_area <= 255:
        raise ValueError(f"max_area must be within 1..255 px, not {max_area}")
    ink = cv2.threshold(img, 127, 1, cv2.THRESH_BINARY_INV)[1]
    side = 2 * reach + 1
    # 8-bit sums saturate at 255, which is harmless: only counts under max_area matter.
    nearby = cv2.boxFilter(ink, cv2.CV_8U, (side, side), normalize=False,
                           borderType=cv2.BORDER_CONSTANT)
    lonely = cv2.threshold(nearby, max_area - 1, PAPER, cv2.THRESH_BINARY_INV)[1]
    speck = cv2.bitwise_and(lonely, cv2.bitwise_not(img))  # binary page: not(img) is ink
    return cv2.max(img, speck)


def remove_lonely_specks(img: np.ndarray, x_height: float) -> np.ndarray:
    """On a grey page, the specks far from any text made paper: what `despeckle` does on
    a binary page, sized by the page's x-height. A fax's or a photocopy's specks above a
    line make tesseract cut that line in two; an accent or a full stop is near its letters
    and stays."""
    if x_height <= 0:
        return img
    reach = max(3, round(SPECK_REACH * x_height))
    max_area = max(4, round((SPECK_SIDE * x_height) ** 2))
    _, ink = cv2.threshold(img, 0, 1, cv2.THRESH_BINARY_INV | cv2.THRESH_OTSU)
    side = 2 * reach + 1
    nearby = cv2.boxFilter(ink, cv2.CV_32F, (side, side), normalize=False,
                           borderType=cv2.BORDER_CONSTANT)
    lonely = (nearby < max_area) & (ink > 0)
    if not lonely.any():
        return img
    out = img.copy()
    out[lonely] = PAPER
    return out


SPECK_REACH = 0.7  # x-heights around a speck with no other ink
SPECK_SIDE = 0.25  # x-heights: a square of this side holds more ink than a speck


# --------------------------------------------------------------------------- stages


@dataclass
class _Clock:
    timings: dict[str, float] = field(default_factory=dict)
    start: float = field(default_factory=time.perf_counter)

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.timings[name] = (now - self.start) * 1000
        self.start = now


def flatten(img: np.ndarray) -> CleanedPage:
    """Scanner borders painted with the paper's grey, then the background divided out.

    Neither step cares which way up the page is, so they run before orientation: the
    analysis that finds it then sees paper white and ink dark whatever the lighting.
    """
    clock = _Clock()
    out, small = img, thumbnail(img)
    mask = _border_mask_small(small)
    if mask.any():
        level = _paper_level(small)
        out, small = _paint(out, mask, level), _paint(small, mask, level)
    clock.lap("borders")
    out = _divide(out, _background_small(small))
    clock.lap("background")
    return CleanedPage(image=out, skew_deg=0.0, ruling=None, timings_ms=clock.timings)


def straighten(img: np.ndarray, *, skew: float | None = None, binary: bool = False,
               min_deg: float = MIN_DESKEW_DEG) -> CleanedPage:
    """The page with its skew undone if at least `min_deg`: the skew given (the analysis
    measured it while finding the orientation), or estimated on the thumbnail."""
    clock = _Clock()
    if skew is None:
        small = thumbnail(img)
        skew = _skew_small(small, _background_small(small))
        clock.lap("skew")
    out = deskew(img, skew, binary=binary) if abs(skew) >= min_deg else img
    clock.lap("deskew")
    return CleanedPage(image=out, skew_deg=skew, ruling=None, timings_ms=clock.timings)


def _binary(img: np.ndarray, speckles: bool, clock: _Clock) -> np.ndarray:
    out = binarize(img)
    clock.lap("binarize")
    if speckles:
        out = despeckle(out)
        clock.lap("despeckle")
    return out


def clean_page(
    img: np.ndarray,
    kind: str,
    *,
    borders: bool = True,
    straighten: bool = True,
    flatten: bool = True,
    threshold: bool = True,
    speckles: bool = True,
    ruling: bool | None = None,
    skew: float | None = None,
) -> CleanedPage:
    """Every step on one page; `ruling` defaults to index pages only.

    Each flag turns one step off, for benchmarks and for pages already flattened by
    `flatten`; a `skew` already measured is used instead of estimating it. Skew is
    measured first but corrected after binarisation: background and threshold do not
    care about rotation, and rotating a binary page costs half as much.
    """
    if kind not in MODES:
        raise ValueError(f"unknown page kind {kind!r}; expected 'acte' or 'index'")
    clock = _Clock()
    out, small = img, thumbnail(img)
    clock.lap("thumbnail")
    if borders:
        mask = _border_mask_small(small)
        if mask.any():
            level = _paper_level(small)
            out, small = _paint(out, mask, level), _paint(small, mask, level)
        clock.lap("borders")
    background = _background_small(small)
    if skew is None:
        skew = _skew_small(small, background) if straighten else 0.0
        clock.lap("skew")
    if flatten:
        out = _divide(out, background)
        clock.lap("background")
    found = None
    if kind == Kind.INDEX if ruling is None else ruling:
        # Rules are found and removed on the grey page, where hairlines are still there:
        # it is deskewed first, so that they run level.
        out = deskew(out, skew)
        clock.lap("deskew")
        found = find_ruling_lines(out)
        clock.lap("ruling")
        out = remove_ruling_lines(out, found)
        clock.lap("unrule")
        if threshold:
            out = _binary(out, speckles, clock)
    else:
        if threshold:
            out = _binary(out, speckles, clock)
        out = deskew(out, skew, binary=threshold)
        clock.lap("deskew")
    timings = clock.timings
    timings["total"] = sum(timings.values())
    return CleanedPage(image=out, skew_deg=skew, ruling=found, timings_ms=timings)
