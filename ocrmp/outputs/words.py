"""A page's lines and words as the outputs place them, read from its `layout`."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from ocrmp.ocr.result import PageResult


@dataclass(frozen=True)
class PlacedWord:
    box: tuple[int, int, int, int]  # on the scan as stored: left, top, right, bottom
    conf: int  # 0-100
    text: str


@dataclass(frozen=True)
class PlacedLine:
    box: tuple[int, int, int, int]
    words: tuple[PlacedWord, ...]


def page_lines(page: PageResult) -> Iterator[PlacedLine]:
    """The page's lines in reading order, each with its words; none without a layout."""
    for line in (page.layout or {}).get("lines", []):
        words = tuple(PlacedWord((w[0], w[1], w[2], w[3]), w[4], w[5]) for w in line["words"])
        if words:
            x0, y0, x1, y1 = line["box"]
            yield PlacedLine((x0, y0, x1, y1), words)


def around(boxes: Iterable[tuple[int, int, int, int]]) -> tuple[int, int, int, int]:
    items = list(boxes)
    return (min(b[0] for b in items), min(b[1] for b in items),
            max(b[2] for b in items), max(b[3] for b in items))
