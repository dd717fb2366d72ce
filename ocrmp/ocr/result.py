"""What OCR made of one page, as stored in `ocr_result`: text, confidence, geometry, flags,
and where its words lie.

A page result holds no pixels, so a long document's results stay small. Its `layout` puts
every line and word on the scan as it was stored (the page's `width` x `height` pixels,
before it was turned or scaled: `geometry` says how), lines in reading order:

    {"lines": [{"box": [x0, y0, x1, y1], "words": [[x0, y0, x1, y1, conf, "text"], ...]}],
     "cells": [{"row": 0, "field": "parties", "box": [x0, y0, x1, y1]}, ...]}

integers, right and bottom exclusive, `conf` the engine's 0-100; `cells` only on a ledger
page whose rows are given.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ocrmp.ocr.geometry import Box, Line, mean_confidence
from ocrmp.ocr.page import Page
from ocrmp.vocabulary import PageFlag


@dataclass(frozen=True)
class Geometry:
    """How the page was turned and scaled before recognition, and why."""

    rotation_deg: int = 0  # how far the scan was turned counter-clockwise (0/90/180/270)
    rotation_confidence: float = 1.0
    rotation_method: str = "none"  # lines, engine, none
    dpi_source: str = "default"  # pdf, render, image, text, default
    x_height_px: float = 0.0  # measured on the scan, 0 when there was no text to measure
    scale: float = 1.0  # the page was resized by this before recognition

    def to_json(self) -> dict[str, Any]:
        return {"rotation_deg": self.rotation_deg,
                "rotation_confidence": round(self.rotation_confidence, 3),
                "rotation_method": self.rotation_method, "dpi_source": self.dpi_source,
                "x_height_px": round(self.x_height_px, 1), "scale": round(self.scale, 3)}


@dataclass
class PageResult:
    index: int
    text: str
    confidence: float
    width: int
    height: int
    dpi: float  # the page's true resolution, as best known (Geometry says from where)
    low_confidence: bool
    skew_deg: float = 0.0
    extracted: bool = False  # the PDF's own scan image, not a rendering
    timings_ms: dict[str, float] = field(default_factory=dict)
    rows: list[dict[str, Any]] | None = None  # index pages only: a record per row
    table: dict[str, Any] | None = None  # index pages only: columns and the page header
    flags: list[PageFlag] = field(default_factory=list)  # why a person should look at it
    geometry: Geometry = field(default_factory=Geometry)
    source: str = "ocr"  # ocr, or text_layer: the PDF's own text, not recognised
    rejected_words: int = 0  # read but left out of the text as noise
    layout: dict[str, Any] | None = None  # lines and words on the scan (see the docstring)

    def to_json(self) -> dict[str, object]:
        data: dict[str, object] = {
            "page": self.index + 1,
            "text": self.text,
            "source": self.source,
            "confidence": round(self.confidence, 2),
            "low_confidence": self.low_confidence,
            "width": self.width,
            "height": self.height,
            "dpi": round(self.dpi, 1),
            "extracted": self.extracted,
            "skew_deg": round(self.skew_deg, 2),
            **self.geometry.to_json(),
            "rejected_words": self.rejected_words,
            "flags": [str(flag) for flag in self.flags],
            "timings_ms": {k: round(v, 1) for k, v in self.timings_ms.items()},
        }
        if self.rows is not None:
            data["rows"] = self.rows
        if self.table is not None:
            data["table"] = self.table
        if self.layout is not None:
            data["layout"] = self.layout
        return data


def page_result(page: Page) -> PageResult:
    """What the reader's steps left on the page, as stored: no pixels."""
    found, res = page.orientation, page.resolution
    assert res is not None
    geometry = Geometry(rotation_deg=found.angle, rotation_confidence=found.confidence,
                        rotation_method=found.method, dpi_source=res.source,
                        x_height_px=res.x_height_px, scale=res.scale)
    flags = [flag for flag in PageFlag if flag in page.flags]  # in the vocabulary's order
    height, width = page.scan.image.shape[:2]
    return PageResult(
        index=page.scan.index, text=page.text, confidence=mean_confidence(page.words),
        width=width, height=height, dpi=res.dpi,
        low_confidence=PageFlag.LOW_CONFIDENCE in flags, flags=flags,
        skew_deg=page.ink.skew if page.ink is not None else 0.0,
        extracted=page.scan.extracted, timings_ms=page.timings_ms, rows=page.rows,
        table=page.table, geometry=geometry, rejected_words=page.rejected,
        layout=page_layout(page))


def page_layout(page: Page) -> dict[str, Any] | None:
    """The page's lines and words, and a ledger's cells, on the scan; None without words."""
    lines = [_line_json(page, line) for line in page.lines if line.words]
    if not lines:
        return None
    layout: dict[str, Any] = {"lines": lines}
    if page.cells:
        layout["cells"] = [{"row": cell.row, "field": cell.field,
                            "box": _box_json(page.on_scan(cell.box))} for cell in page.cells]
    return layout


def _line_json(page: Page, line: Line) -> dict[str, Any]:
    boxes = [page.on_scan(word.box) for word in line.words]
    words = [[*_box_json(box), max(0, min(100, round(word.conf))), word.text]
             for box, word in zip(boxes, line.words, strict=True)]
    return {"box": _box_json(Box.around(boxes)), "words": words}


def _box_json(box: Box) -> list[int]:
    return [box.left, box.top, box.right, box.bottom]
