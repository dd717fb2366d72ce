"""What age and scanners do to a page: stains, faded ink, skew, lamp, lid, noise, fax.

Every function takes a grey (H, W) or RGB (H, W, 3) uint8 image. Skew convention, shared
with `ocrmp.ocr.preprocess`: a positive angle means the content is rotated
counter-clockwise as seen on screen (OpenCV's convention).
"""

from __future__ import annotations

import cv2
import numpy as np

Rng = np.random.Generator
Fill = int | tuple[int, ...]
ORIENTATIONS = (0, 90, 180, 270)


def _per_pixel(factor: np.ndarray, img: np.ndarray) -> np.ndarray:
    """A (H, W) map shaped to multiply `img`, grey or colour."""
    return factor if img.ndim == 2 else factor[..., None]


def fade_ink(img: np.ndarray, rng: Rng) -> np.ndarray:
    """Old ribbon ink: black becomes dark grey, paper stays white."""
    ink = rng.uniform(50, 120)
    return (ink + img.astype(np.float32) * (255 - ink) / 255).astype(np.uint8)


def _stain(shape: tuple[int, int], rng: Rng, dpi: int) -> np.ndarray:
    """Multiplicative map of one coffee stain: a faint disc with a darker rim."""
    h, w = shape
    mask = np.zeros((h // 4, w // 4), np.float32)
    center = (int(rng.integers(0, w // 4)), int(rng.integers(0, h // 4)))
    radius = int(rng.uniform(0.4, 1.0) * dpi / 4)
    cv2.circle(mask, center, radius, 0.15, -1)
    cv2.circle(mask, center, radius, 0.3, max(1, radius // 10))
    soft = cv2.GaussianBlur(mask, (0, 0), max(1.0, radius / 8))
    return 1.0 - cv2.resize(soft, (w, h), interpolation=cv2.INTER_LINEAR)


def stains(img: np.ndarray, rng: Rng, dpi: int) -> np.ndarray:
    shape = (img.shape[0], img.shape[1])
    factor = np.ones(shape, np.float32)
    for _ in range(int(rng.integers(1, 4))):
        factor *= _stain(shape, rng, dpi)
    return (img * _per_pixel(factor, img)).astype(np.uint8)


def paper_fill(img: np.ndarray) -> Fill:
    """The lightest value of each channel: what a rotation fills its corners with."""
    if img.ndim == 2:
        return int(img.max())
    return tuple(int(v) for v in img.reshape(-1, img.shape[2]).max(axis=0))


def rotate(img: np.ndarray, angle_deg: float, fill: Fill = 255) -> np.ndarray:
    """Rotate about the centre, counter-clockwise for a positive angle, keeping the size."""
    h, w = img.shape[:2]
    matrix = cv2.getRotationMatrix2D((w / 2, h / 2), angle_deg, 1.0)
    border = fill if isinstance(fill, int) else tuple(float(v) for v in fill)
    return cv2.warpAffine(img, matrix, (w, h), flags=cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_CONSTANT, borderValue=border)


def turn(img: np.ndarray, orientation_deg: int) -> np.ndarray:
    """The whole page turned counter-clockwise by a multiple of 90 degrees."""
    if orientation_deg not in ORIENTATIONS:
        raise ValueError(f"orientation must be 0, 90, 180 or 270 degrees, not {orientation_deg}")
    if orientation_deg == 0:
        return img
    return np.ascontiguousarray(np.rot90(img, orientation_deg // 90))


def illumination(img: np.ndarray, rng: Rng) -> np.ndarray:
    """A scanner lamp brighter on one side: a linear gradient down to 55-80 %."""
    h, w = img.shape[:2]
    theta = rng.uniform(0, 2 * np.pi)
    ys, xs = np.mgrid[0:h:8, 0:w:8].astype(np.float32)
    ramp = xs / w * np.cos(theta) + ys / h * np.sin(theta)
    ramp = (ramp - ramp.min()) / max(float(np.ptp(ramp)), 1e-6)
    low = rng.uniform(0.55, 0.80)
    gain = cv2.resize(1.0 - (1.0 - low) * ramp, (w, h), interpolation=cv2.INTER_LINEAR)
    return (img * _per_pixel(gain, img)).astype(np.uint8)


def dark_borders(img: np.ndarray, rng: Rng, dpi: int) -> np.ndarray:
    """The scanner lid's black edges on two to four sides, ragged like real ones."""
    out = img.copy()
    h, w = img.shape[:2]
    ys, xs = np.arange(h)[:, None], np.arange(w)[None, :]
    for side in rng.permutation(4)[: int(rng.integers(2, 5))]:
        depth = int(rng.uniform(0.05, 0.25) * dpi)
        along = w if side < 2 else h
        # A random walk around `depth`: scanner lids never cast a straight shadow.
        ragged = depth + np.cumsum(rng.integers(-1, 2, along)).clip(-depth // 3, depth // 3)
        distance = (ys, h - 1 - ys, xs, w - 1 - xs)[side]
        covered = distance < (ragged[None, :] if side < 2 else ragged[:, None])
        out[covered] = int(rng.integers(15, 60))
    return out


def jpeg_round_trip(img: np.ndarray, quality: int) -> np.ndarray:
    """The image as a JPEG at `quality` would decode: blocks and ringing included."""
    colour = img.ndim == 3
    encoded_from = cv2.cvtColor(img, cv2.COLOR_RGB2BGR) if colour else img
    ok, encoded = cv2.imencode(".jpg", encoded_from, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise RuntimeError("OpenCV could not JPEG-encode a page")
    decoded = cv2.imdecode(encoded, cv2.IMREAD_COLOR if colour else cv2.IMREAD_GRAYSCALE)
    if decoded is None:
        raise RuntimeError("OpenCV could not decode its own JPEG")
    return cv2.cvtColor(decoded, cv2.COLOR_BGR2RGB) if colour else decoded


def blur_noise_jpeg(img: np.ndarray, rng: Rng) -> np.ndarray:
    blurred = cv2.GaussianBlur(img, (0, 0), rng.uniform(0.6, 1.1))
    noise = rng.normal(0.0, rng.uniform(4, 9), img.shape).astype(np.float32)
    noisy = np.clip(blurred + noise, 0, 255).astype(np.uint8)
    return jpeg_round_trip(noisy, int(rng.integers(35, 61)))


def age_paper(img: np.ndarray, rng: Rng, dpi: int) -> np.ndarray:
    """Paper damage, before the page meets the scanner: faded ink, then stains."""
    return stains(fade_ink(img, rng), rng, dpi)


def skew_angle(rng: Rng) -> float:
    return float(rng.uniform(-3.0, 3.0))


def scanner(img: np.ndarray, rng: Rng, dpi: int) -> np.ndarray:
    """What the scanner adds to a page lying on its glass: lamp, lid, blur, noise, JPEG."""
    return blur_noise_jpeg(dark_borders(illumination(img, rng), rng, dpi), rng)


def fax(img: np.ndarray, rng: Rng, dpi: int) -> np.ndarray:
    """A fax: one bit per pixel, thickened or thinned strokes, specks and dropped lines."""
    grey = cv2.cvtColor(img, cv2.COLOR_RGB2GRAY) if img.ndim == 3 else img
    soft = cv2.GaussianBlur(grey, (0, 0), max(0.5, dpi / 300))
    threshold = rng.uniform(120, 175)  # low: thin, broken strokes; high: fat, filled ones
    out = np.where(soft < threshold, 0, 255).astype(np.uint8)
    h, w = out.shape
    for value, density in ((0, rng.uniform(2e-4, 8e-4)), (255, rng.uniform(1e-4, 4e-4))):
        count = int(density * h * w / 4)
        ys, xs = rng.integers(0, h - 1, count), rng.integers(0, w - 1, count)
        out[ys, xs] = value
        out[ys + 1, xs + 1] = value  # specks are a pixel or two, not single dots
    for y in rng.integers(0, h, int(rng.integers(0, 4))):
        out[y, :] = 255  # a line the modem dropped
    return out
