"""Page cleaning before recognition, numpy and OpenCV only; the page stays grey.

Tesseract's own thresholding, with its LSTM reading the grey line images, beat every
binarisation of ours measured on real scans (bench/RESULTS.md), so cleaning here only
takes away what is not the page's: the scanner's dark borders, uneven light and stains
(the background divided out), the skew, and specks far from any text. Skew follows
OpenCV's convention: a positive angle means the content is turned counter-clockwise.
"""

from __future__ import annotations

import cv2
import numpy as np

PAPER = 255
THUMBNAIL_MAX_SIDE = 1100
SPECK_REACH = 0.7  # x-heights around a speck with no other ink
SPECK_SIDE = 0.25  # x-heights: a square of this side holds more ink than a speck


def thumbnail(img: np.ndarray) -> np.ndarray:
    """A Gaussian-pyramid copy no larger than ~1,100 px (75 dpi for a 300-dpi letter page):
    border and background estimates work at this scale, cheaply."""
    small = img
    while max(small.shape) > THUMBNAIL_MAX_SIDE:
        small = cv2.pyrDown(small)
    return small


def _enlarge(img: np.ndarray, shape: tuple[int, ...], nearest: bool = False) -> np.ndarray:
    mode = cv2.INTER_NEAREST if nearest else cv2.INTER_LINEAR
    return cv2.resize(img, (shape[1], shape[0]), interpolation=mode)


def _paper_level(img: np.ndarray) -> int:
    """The paper's grey: most of a page is paper, and the brightest part of it is."""
    step = max(1, max(img.shape) // 400)
    return int(np.percentile(img[::step, ::step], 90))


def _touches_edge(stats: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    left, top = stats[:, cv2.CC_STAT_LEFT], stats[:, cv2.CC_STAT_TOP]
    right = left + stats[:, cv2.CC_STAT_WIDTH]
    bottom = top + stats[:, cv2.CC_STAT_HEIGHT]
    return (left == 0) | (top == 0) | (right == shape[1]) | (bottom == shape[0])


def border_mask(small: np.ndarray) -> np.ndarray:
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


def background(small: np.ndarray) -> np.ndarray:
    """The page without its ink, at half the thumbnail's scale (~37 dpi)."""
    tiny = cv2.pyrDown(small)
    # ~0.25 in: wider than a glyph and a line's height, smaller than a stain.
    side = max(3, max(tiny.shape) // 44) | 1
    kernel = cv2.getStructuringElement(cv2.MORPH_RECT, (side, side))
    paper = cv2.morphologyEx(tiny, cv2.MORPH_CLOSE, kernel)
    return cv2.GaussianBlur(paper, (0, 0), side / 3)


def _divide(img: np.ndarray, background_small: np.ndarray) -> np.ndarray:
    paper = _enlarge(np.maximum(background_small, 1), img.shape)
    return cv2.divide(img, paper, scale=255)


def flatten(img: np.ndarray) -> np.ndarray:
    """Scanner borders painted with the paper's grey, then the background divided out.

    Neither step cares which way up the page is, so they run before orientation: the
    analysis that finds it then sees paper white and ink dark whatever the lighting.
    """
    out, small = img, thumbnail(img)
    mask = border_mask(small)
    if mask.any():
        level = _paper_level(small)
        out, small = _paint(out, mask, level), _paint(small, mask, level)
    return _divide(out, background(small))


def level(img: np.ndarray, skew: float) -> np.ndarray:
    """The grey page with a skew of `skew` degrees undone, bilinearly, its edge replicated
    so that the corners continue the paper's own shade."""
    h, w = img.shape
    matrix = cv2.getRotationMatrix2D((w / 2, h / 2), -skew, 1.0)
    return cv2.warpAffine(img, matrix, (w, h), flags=cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_REPLICATE)


def remove_lonely_specks(img: np.ndarray, x_height: float) -> np.ndarray:
    """The specks far from any text made paper, sized by the page's x-height. A fax's or
    a photocopy's specks above a line make tesseract cut that line in two; an accent or a
    full stop is near its letters and stays."""
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
