"""Paper and inks: the grey drawing of a page becomes a colour (or grey) scan of it.

Pages are drawn as grey layers where 255 is bare paper and 0 full ink. Each layer is
then printed in its ink on the paper: inks absorb light, so layers multiply (a stamp over
type darkens both), as they do on real paper.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

Rng = np.random.Generator

INKS = {
    "black": (22, 20, 24),
    "faded": (120, 116, 110),  # worn ribbon, pencil-grey
    "violet": (112, 72, 178),  # aniline copying ribbon
    "blue": (48, 70, 158),
    "red": (196, 52, 48),  # stamps
    "green": (46, 120, 74),
}
PAPERS = {
    "white": (255, 255, 255),
    "yellowed": (236, 222, 184),
    "grey": (214, 219, 219),  # the bluish-grey copy paper of old carbons
}


def check(paper: str, ink: str) -> None:
    if paper not in PAPERS:
        raise ValueError(f"unknown paper {paper!r}; expected one of {', '.join(PAPERS)}")
    if ink not in INKS:
        raise ValueError(f"unknown ink {ink!r}; expected one of {', '.join(INKS)}")


def paper_image(shape: tuple[int, int], paper: str, rng: Rng) -> np.ndarray:
    """(H, W, 3) uint8 paper: its tone, mottled, aged paper darker towards the edges."""
    h, w = shape
    tone = np.array(PAPERS[paper], np.float32)
    if paper == "white":
        return np.full((h, w, 3), 255, np.uint8)
    # Built on a coarse grid and enlarged: paper tone changes over millimetres.
    sh, sw = max(4, h // 16), max(4, w // 16)
    noise = cv2.GaussianBlur(rng.normal(0.0, 1.0, (sh, sw)).astype(np.float32), (0, 0), 4)
    mottle = noise / max(float(np.abs(noise).max()), 1e-6)
    ys, xs = np.mgrid[0:sh, 0:sw].astype(np.float32)
    edge = np.minimum(np.minimum(xs, sw - 1 - xs) / sw, np.minimum(ys, sh - 1 - ys) / sh)
    browning = 1.0 - 0.10 * np.exp(-edge / 0.04)  # old sheets darken towards their edges
    small = np.clip(tone * ((1.0 + 0.04 * mottle) * browning)[..., None], 0, 255)
    return cv2.resize(small.astype(np.uint8), (w, h), interpolation=cv2.INTER_LINEAR)


def _transmission(ink: tuple[int, int, int]) -> np.ndarray:
    """(256, 1, 3) lookup: the share of light (x 255) a layer value lets through, per channel."""
    absorbed = 1.0 - np.array(ink, np.float32) / 255.0
    darkness = 1.0 - np.arange(256, dtype=np.float32) / 255.0
    through = 1.0 - darkness[:, None] * absorbed[None, :]
    return np.round(255 * through).astype(np.uint8).reshape(256, 1, 3)


def compose(
    paper: np.ndarray, layers: Sequence[tuple[np.ndarray, tuple[int, int, int]]]
) -> np.ndarray:
    """Each grey layer printed in its ink colour on uint8 `paper`; returns (H, W, 3) uint8."""
    out = paper
    for layer, ink in layers:
        if layer.min() == 255:
            continue  # no ink on this layer
        through = cv2.LUT(cv2.merge([layer, layer, layer]), _transmission(ink))
        out = cv2.multiply(out, through, scale=1 / 255)
    return out


def to_grey(rgb: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
