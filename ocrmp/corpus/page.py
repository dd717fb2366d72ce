"""A generated page and everything known about it: the ground truth."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass(frozen=True)
class Mark:
    """Something drawn that is not the page's text: a stamp or a handwriting-like mark.

    `box` is (left, top, right, bottom) in pixels of the upright page, before the page
    was turned or skewed; `text` is what a stamp says (handwriting says nothing legible).
    """

    kind: str  # "stamp", "signature", "note", "strokes", "cell"
    box: tuple[int, int, int, int]
    colour: str
    text: str = ""


@dataclass(frozen=True)
class GeneratedPage:
    """A page image and what was drawn on it.

    `image` is uint8, grey (H, W) or colour (H, W, 3) RGB. `dpi` is the true resolution of
    its pixels. `orientation_deg` says how far the upright page was turned
    counter-clockwise (0, 90, 180, 270) and `skew_deg` how far the content is then rotated,
    counter-clockwise positive as seen on screen (OpenCV's convention), both in the frame
    of the image as it is. `handwritten` is set when the page's entries are handwriting.
    `options` are the keyword arguments that made it, so a random page can be made again.
    """

    image: np.ndarray
    text: str
    kind: str
    rows: list[dict[str, Any]]
    skew_deg: float
    dpi: int = 300
    orientation_deg: int = 0
    handwritten: bool = False
    marks: tuple[Mark, ...] = ()
    options: dict[str, Any] = field(default_factory=dict)

    @property
    def colour(self) -> bool:
        return self.image.ndim == 3


@dataclass(frozen=True)
class LedgerPage(GeneratedPage):
    """An index page: its format, the printed column labels, page header and rows.

    `text` reads the page header's lines, the table header (group labels and single
    labels on one line, sub-labels on the next), then one line per typed row: its cells
    left to right separated by " | ", a multi-line cell's lines joined by spaces.
    Handwritten rows add no text. `columns` name two-level labels "GROUP / LABEL".

    `rows` hold, for each column the format prints, its key and the value as printed (the
    lines of a multi-line cell joined with "\\n"); `parties` is a list of {"name", "role"};
    `date_iso` is there when the printed date is unambiguous. A handwritten cell's value is
    None. `cells` are the same rows with every value a string, parties as printed.
    """

    format: str = ""
    columns: tuple[str, ...] = ()
    header: dict[str, str] = field(default_factory=dict)
    cells: list[dict[str, str]] = field(default_factory=list)
