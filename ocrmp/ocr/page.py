"""One page through its reader's steps: the page model.

A reader is a short sequence of steps over one `Page` (as OCRmyPDF's page context is): each
step reads what earlier steps left and adds its own; nothing is computed twice. The page
holds the image being read, its one ink analysis, how it was turned, levelled and scaled
(`Frame`, so that every box can be put back on the scan), the words read, their lines, the
page's columns, the flags raised so far and the time each step took.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import cv2
import numpy as np

from ocrmp.ocr.geometry import Box, Line, Word
from ocrmp.ocr.ink import Ink
from ocrmp.ocr.pages import PageImage
from ocrmp.vocabulary import PageFlag


@dataclass(frozen=True)
class Orientation:
    angle: int  # 0, 90, 180 or 270: how far the content is turned counter-clockwise
    confidence: float  # 0-1
    method: str  # lines, engine, or none (a page without text lines)


@dataclass(frozen=True)
class Resolution:
    dpi: float  # the page's true resolution, as best known
    source: str  # pdf, render, image, text or default: where `dpi` comes from
    declared: float | None  # what the file said, when it said anything
    x_height_px: float  # measured on the upright page; 0 when not measured
    scale: float  # the page is resized by this before recognition

    @property
    def engine_dpi(self) -> float:
        """The resolution of the page as the engine gets it."""
        return self.dpi * self.scale


@dataclass(frozen=True)
class Frame:
    """How the page being read lies on the scan: turned back by `angle`, levelled by
    `skew` degrees about its centre, resized by `scale`, in that order. `size` is the
    scan's (width, height) in pixels."""

    size: tuple[int, int]
    angle: int = 0
    skew: float = 0.0
    scale: float = 1.0

    @property
    def upright_size(self) -> tuple[int, int]:
        width, height = self.size
        return (height, width) if self.angle in (90, 270) else (width, height)

    def _levelling(self) -> np.ndarray:
        """The 3x3 matrix from upright pixels to the pixels being read."""
        width, height = self.upright_size
        rotate = np.vstack([cv2.getRotationMatrix2D((width / 2, height / 2), -self.skew, 1.0),
                            [0, 0, 1]])
        return np.diag([self.scale, self.scale, 1.0]) @ rotate

    def _turning(self) -> np.ndarray:
        """The 3x3 matrix from scan pixels to upright pixels (corners, not centres)."""
        width, height = self.size
        return {0: np.eye(3),
                90: np.array([[0, -1, height], [1, 0, 0], [0, 0, 1]], float),
                180: np.array([[-1, 0, width], [0, -1, height], [0, 0, 1]], float),
                270: np.array([[0, 1, 0], [-1, 0, width], [0, 0, 1]], float)}[self.angle % 360]

    def from_upright(self, points: np.ndarray) -> np.ndarray:
        """(n, 2) points of the upright page as they lie on the page being read."""
        return _apply(self._levelling(), points)

    def to_scan(self, box: Box) -> Box:
        """A box of the page being read, on the scan as it was stored."""
        matrix = np.linalg.inv(self._levelling() @ self._turning())
        corners = np.array([[box.left, box.top], [box.right, box.top],
                            [box.left, box.bottom], [box.right, box.bottom]], float)
        xs, ys = _apply(matrix, corners).T
        width, height = self.size
        return Box(max(0, round(xs.min())), max(0, round(ys.min())),
                   min(width, round(xs.max())), min(height, round(ys.max())))


def _apply(matrix: np.ndarray, points: np.ndarray) -> np.ndarray:
    homogeneous = np.hstack([points, np.ones((len(points), 1))])
    return (homogeneous @ matrix.T)[:, :2]


@dataclass(frozen=True)
class Cell:
    """One cell of a ledger's table: its row, its column's field, its words' box."""

    row: int
    field: str | None
    box: Box


@dataclass
class Page:
    """A page as its reader's steps leave it."""

    scan: PageImage
    image: np.ndarray  # what is read now: gray, flattened, upright, levelled, scaled
    frame: Frame
    ink: Ink | None = None
    orientation: Orientation = Orientation(0, 1.0, "none")
    resolution: Resolution | None = None
    words: list[Word] = field(default_factory=list)
    missed: list[Word] = field(default_factory=list)  # read again from ink no word covered
    rejected: int = 0  # words read but left out as noise
    lines: list[Line] = field(default_factory=list)
    columns: list[tuple[int, int]] = field(default_factory=list)  # (left, right) of each
    text: str = ""
    flags: set[PageFlag] = field(default_factory=set)
    unread_share: float = 0.0  # of its letter-sized ink, in lines no word covers
    table: dict[str, Any] | None = None  # ledger pages
    rows: list[dict[str, Any]] | None = None
    cells: list[Cell] = field(default_factory=list)  # ledger pages whose rows are given
    timings_ms: dict[str, float] = field(default_factory=dict)

    @classmethod
    def of(cls, scan: PageImage) -> Page:
        height, width = scan.image.shape[:2]
        return cls(scan=scan, image=scan.image, frame=Frame((width, height)))

    @contextmanager
    def timed(self, step: str) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            self.timings_ms[step] = self.timings_ms.get(step, 0.0) + (
                time.perf_counter() - started) * 1000

    @property
    def glyph_px(self) -> float:
        """The median glyph's size in pixels of the page being read; 0 without text."""
        if self.ink is None or not self.ink.size:
            return 0.0
        return self.ink.size * self.ink.reduction * self.frame.scale

    @property
    def x_height_px(self) -> float:
        """The print's x-height in pixels of the page being read; 0 when not measured."""
        return self.resolution.x_height_px * self.frame.scale if self.resolution else 0.0

    def on_scan(self, box: Box) -> Box:
        """A box of the page being read, on the scan as it was stored (`Frame.to_scan`)."""
        return self.frame.to_scan(box)

    def glyph_boxes(self) -> list[Box]:
        """The page's glyph-sized ink components, placed on the page being read."""
        return self.placed(self.ink.glyphs, levelled=False) if self.ink is not None else []

    def pieces(self, gap_glyphs: float) -> list[Box]:
        """Pieces of the page's text lines (`Ink.pieces`), placed on the page being read."""
        return self.placed(self.ink.pieces(gap_glyphs), levelled=True) \
            if self.ink is not None else []

    def placed(self, stats: np.ndarray, *, levelled: bool) -> list[Box]:
        """Boxes of the analysis mask, (left, top, width, height) rows of `stats`, placed
        on the page being read: each centre moved exactly (back from the levelled mask
        when `levelled`, then as the page was levelled and scaled), its size scaled."""
        if self.ink is None or not len(stats):
            return []
        r = self.ink.reduction
        centres = np.column_stack([(stats[:, 0] + stats[:, 2] / 2) * r,
                                   (stats[:, 1] + stats[:, 3] / 2) * r]).astype(float)
        if levelled and self.ink.skew:
            width, height = self.frame.upright_size
            unlevel = np.vstack([cv2.getRotationMatrix2D((width / 2, height / 2),
                                                         self.ink.skew, 1.0), [0, 0, 1]])
            centres = _apply(unlevel, centres)
        moved = self.frame.from_upright(centres)
        half_w = stats[:, 2] * r * self.frame.scale / 2
        half_h = stats[:, 3] * r * self.frame.scale / 2
        return [Box(round(x - w), round(y - h), round(x + w), round(y + h))
                for (x, y), w, h in zip(moved, half_w, half_h, strict=True)]
