"""A ledger's table: column geometry, the header (one or two levels), rules, cell text."""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise

import numpy as np
from PIL import ImageDraw, ImageFont

from ocrmp.corpus.formats import Column, Format, get_format
from ocrmp.corpus.layout import draw_line, font_px, page_shape, wrap

CELL_SEPARATOR = " | "
RULES = ("full", "horizontal", "vertical", "none")
RULE_WEIGHTS = ("hairline", "normal", "bold")
Rng = np.random.Generator
Box = tuple[int, int, int, int]


@dataclass(frozen=True)
class Table:
    """Geometry of a table: columns from the format's shares, rows of `row_px` or more."""

    left: int
    top: int
    row_px: int
    cols_x: list[int]  # boundaries, left edge first, right edge last
    line_px: int

    @property
    def pad(self) -> int:
        return self.row_px // 4


def table_for(fmt: Format, dpi: int, width: int, top: int) -> Table:
    margin = round(0.6 * dpi)
    inner = width - 2 * margin
    cols_x = [margin]
    for column in fmt.columns:
        cols_x.append(cols_x[-1] + round(column.share * inner))
    cols_x[-1] = width - margin
    return Table(margin, top, round(1.9 * font_px(fmt.points, dpi)), cols_x,
                 max(2, round(dpi / 100)))


def index_table(dpi: int) -> Table:
    """The geometry of the first layout (format "simple") on a letter page."""
    return table_for(get_format("simple"), dpi, page_shape(dpi)[1], round(1.3 * dpi))


def capacity(table: Table, height: int, dpi: int) -> int:
    """Rows of one line that fit below the header of `table` on a page `height` tall."""
    return (height - table.top - round(0.7 * dpi)) // table.row_px - 1


def cells_line(cells: list[str]) -> str:
    """One text line for a row's cells, left to right."""
    # An empty last cell would leave a dangling separator nobody can read.
    return CELL_SEPARATOR.join(cells).rstrip(" |")


def block_height(lines: int, row_px: int, step: int) -> int:
    return max(row_px, (lines - 1) * step + row_px)


def line_step(face: ImageFont.FreeTypeFont) -> int:
    return round(1.25 * face.size)


def draw_block(draw: ImageDraw.ImageDraw, lines: list[str], box: Box,
               face: ImageFont.FreeTypeFont, pad: int, centred: bool,
               strikes: Rng | None = None) -> None:
    """Lines of text in a cell, vertically centred, left-aligned or centred."""
    x0, y0, x1, y1 = box
    step = line_step(face)
    y = y0 + (y1 - y0 - face.size - (len(lines) - 1) * step) // 2 - face.size // 8
    for line in lines:
        x = (x0 + x1 - face.getlength(line)) / 2 if centred else x0 + pad
        draw_line(draw, (x, y), line, face, 0, strikes)
        y += step


# --------------------------------------------------------------------------- header


@dataclass(frozen=True)
class Block:
    lines: list[str]
    box: Box
    centred: bool


@dataclass(frozen=True)
class Header:
    """The table's header, planned: where it ends, its group rule, what it says."""

    bottom: int
    mid_y: int | None  # the rule under a two-level header's group labels
    blocks: list[Block]
    text: list[str]  # printed lines: group labels and single labels, then sub-labels


def groups(columns: tuple[Column, ...]) -> list[tuple[str, int, int]]:
    """(group label, first column, last column) for each two-level group, left to right."""
    found: list[tuple[str, int, int]] = []
    for i, column in enumerate(columns):
        if column.group and found and found[-1][0] == column.group and found[-1][2] == i - 1:
            found[-1] = (column.group, found[-1][1], i)
        elif column.group:
            found.append((column.group, i, i))
    return found


def _labels(fmt: Format, table: Table, face: ImageFont.FreeTypeFont) -> list[list[str]]:
    return [wrap(c.label, face, x1 - x0 - 2 * table.pad) or [""]
            for c, (x0, x1) in zip(fmt.columns, pairwise(table.cols_x), strict=True)]


def plan_header(fmt: Format, table: Table, face: ImageFont.FreeTypeFont,
                centred: bool) -> Header:
    """Lay out the header from the table's top: labels wrapped to their columns."""
    xs, y, step = table.cols_x, table.top, line_step(face)
    labels = _labels(fmt, table, face)
    found = groups(fmt.columns)
    if not found:
        bottom = y + block_height(max(map(len, labels)), table.row_px, step)
        blocks = [Block(lines, (x0, y, x1, bottom), centred)
                  for lines, (x0, x1) in zip(labels, pairwise(xs), strict=True)]
        return Header(bottom, None, blocks, [cells_line([" ".join(b.lines) for b in blocks])])
    grouped = {i for _, a, b in found for i in range(a, b + 1)}
    tops = [wrap(g, face, xs[b + 1] - xs[a] - 2 * table.pad) or [""] for g, a, b in found]
    mid = y + block_height(max(map(len, tops)), table.row_px, step)
    single = [len(labels[i]) for i in range(len(labels)) if i not in grouped] or [1]
    bottom = max(mid + block_height(max(len(labels[i]) for i in grouped), table.row_px, step),
                 y + block_height(max(single) + 1, table.row_px, step))
    blocks, first = [], []
    starts = {a: (g, b, lines) for (g, a, b), lines in zip(found, tops, strict=True)}
    for i, (x0, x1) in enumerate(pairwise(xs)):
        if i in starts:
            label, last, lines = starts[i]
            blocks.append(Block(lines, (x0, y, xs[last + 1], mid), True))
            first.append(label)
        if i in grouped:
            blocks.append(Block(labels[i], (x0, mid, x1, bottom), True))
        else:
            blocks.append(Block(labels[i], (x0, y, x1, bottom), True))
            first.append(" ".join(labels[i]))
    second = cells_line([" ".join(labels[i]) for i in sorted(grouped)])
    return Header(bottom, mid, blocks, [cells_line(first), second])


# --------------------------------------------------------------------------- rules


@dataclass(frozen=True)
class Ruling:
    """How the table is ruled: which rules, how heavy, whether the ink broke."""

    rules: str = "full"
    weight: str = "normal"
    broken: bool = False

    def __post_init__(self) -> None:
        if self.rules not in RULES:
            raise ValueError(f"unknown rules {self.rules!r}; expected one of {', '.join(RULES)}")
        if self.weight not in RULE_WEIGHTS:
            raise ValueError(f"unknown rule_weight {self.weight!r}; "
                             f"expected one of {', '.join(RULE_WEIGHTS)}")

    def ink(self, dpi: int) -> tuple[int, int]:
        """(thickness in pixels, grey level) of one rule."""
        if self.weight == "hairline":
            return 1, 150
        if self.weight == "bold":
            return max(3, round(dpi / 45)), 15
        return max(2, round(dpi / 100)), 40


def _segments(start: int, end: int, rng: Rng | None) -> list[tuple[int, int]]:
    """A rule from start to end, or, broken, its pieces with gaps where the ink failed."""
    if rng is None:
        return [(start, end)]
    if rng.random() < 0.15:
        return []  # a rule the scan lost entirely
    pieces, at = [], start
    while at < end:
        length = int(rng.integers(40, 400))
        pieces.append((at, min(end, at + length)))
        at += length + int(rng.integers(4, 60))
    return pieces


def draw_rules(draw: ImageDraw.ImageDraw, fmt: Format, table: Table, header: Header,
               ys: list[int], ruling: Ruling, dpi: int, rng: Rng | None) -> None:
    """Rules at the row boundaries `ys` (table top first) and the column boundaries."""
    px, ink = ruling.ink(dpi)
    xs = table.cols_x
    horizontal = {"full": ys, "horizontal": ys, "vertical": [ys[0], ys[1], ys[-1]]}
    for y in horizontal.get(ruling.rules, []):
        for a, b in _segments(xs[0], xs[-1], rng):
            draw.rectangle((a, y, b, y + px - 1), fill=ink)
    mid = header.mid_y
    if ruling.rules != "none" and mid is not None:
        for _, first, last in groups(fmt.columns):
            draw.rectangle((xs[first], mid, xs[last + 1], mid + px - 1), fill=ink)
    if ruling.rules not in ("full", "vertical"):
        return
    inner = {i for _, a, b in groups(fmt.columns) for i in range(a + 1, b + 1)}
    for i, x in enumerate(xs):
        top = header.mid_y if i in inner and header.mid_y is not None else ys[0]
        for a, b in _segments(top, ys[-1] + px - 1, rng):
            draw.rectangle((x, a, x + px - 1, b), fill=ink)
