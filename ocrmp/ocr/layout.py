"""The page's columns before its lines: gutters from the ink, then lines in reading order.

A gutter is a band of paper between two columns of text: found on the page's pieces of
lines (the ink analysis, before anything is read), at least `GUTTER_GLYPHS` glyphs wide,
with text on both sides of it on `GUTTER_LINES` lines or more, no line crossing it, the
lines right of it starting at one edge (a column's left edge), which the typewriter's
chance rivers of spaces down a page never do, and lines of like widths on both sides: a
narrow column of dates or labels beside running text is read across, a label with its
line, as a table is.

Then the lines, column by column:

- no line crosses a gutter: an engine line that runs across one is cut there, and the
  columns of the band the gutters divide are read one after the other, left to right;
- within a column, pieces of one printed line that the engine read as separate lines side
  by side at the same height are one line again, and the lines go top to bottom:
  tesseract's layout can take the spaces of typed text, repeated down a page, for a gap
  between columns and read the left halves of the lines, then the right ones.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field

from ocrmp.ocr.geometry import (
    Box,
    Line,
    Word,
    engine_lines,
    group_by_line,
    same_line,
    side_by_side,
)

GUTTER_GLYPHS = 2.5  # glyph sizes: wider than the spaces of running text, typed or printed
GUTTER_LINES = 5  # lines with text on both sides of the gap
ALIGNED_GLYPHS = 1.0  # the lines of a column start this close to its left edge...
ALIGNED_SHARE = 0.5  # ...on this share of the lines beside the gutter
ENGINE_GUTTER_GLYPHS = 1.0  # the paper between two of the engine's blocks read as columns
TEXT_COLUMNS = 0.5  # the narrower column's lines are at least this share of the other's


@dataclass(frozen=True)
class Gutter:
    """The paper between two columns: x from `left` to `right`, y from `top` to `bottom`."""

    left: int
    right: int
    top: int
    bottom: int

    @property
    def x(self) -> float:
        return (self.left + self.right) / 2

    def beside(self, box: Box) -> bool:
        """Whether a box lies at the gutter's height."""
        return self.top <= box.middle <= self.bottom

    def crossed_by(self, box: Box) -> bool:
        return self.beside(box) and box.left < self.x < box.right


@dataclass
class _Band:
    left: int
    right: int
    top: int
    bottom: int
    two_sided: int = 0
    aligned_starts: list[int] | None = None
    widths: tuple[list[int], list[int]] = field(default_factory=lambda: ([], []))


def find_gutters(pieces: Sequence[Box], glyph: float) -> list[Gutter]:
    """The gutters between columns of text (see the module's docstring), top to bottom."""
    if not pieces or glyph <= 0:
        return []
    widest = GUTTER_GLYPHS * glyph
    found: list[Gutter] = []
    active: list[_Band] = []
    for row in group_by_line(pieces):
        spans = _spans([pieces[i] for i in row])
        top = min(pieces[i].top for i in row)
        bottom = max(pieces[i].bottom for i in row)
        kept: list[_Band] = []
        for band in active:
            if _extend(band, spans, top, bottom, widest):
                kept.append(band)
            else:
                found += _closed(band, glyph)
        for left, right in _gaps(spans, widest):
            if not any(b.left < right and left < b.right for b in kept):
                kept.append(_Band(left, right, top, bottom, 1, [right]))
        active = kept
    for band in active:
        found += _closed(band, glyph)
    return sorted(found, key=lambda g: (g.top, g.left))


def _spans(boxes: Sequence[Box]) -> list[tuple[int, int]]:
    """The row's pieces as x spans, overlapping ones merged, left to right."""
    merged: list[list[int]] = []
    for box in sorted(boxes, key=lambda b: b.left):
        if merged and box.left <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], box.right)
        else:
            merged.append([box.left, box.right])
    return [(a, b) for a, b in merged]


def _gaps(spans: Sequence[tuple[int, int]], widest: float) -> list[tuple[int, int]]:
    return [(a[1], b[0]) for a, b in zip(spans, spans[1:], strict=False) if b[0] - a[1] >= widest]


def _extend(band: _Band, spans: Sequence[tuple[int, int]], top: int, bottom: int,
            widest: float) -> bool:
    """The band carried down through one more row: narrowed to the row's free space
    within it; False when that is narrower than a gutter (a line crosses it)."""
    left, right = band.left, band.right
    for a, b in spans:
        if b <= band.left or a >= band.right:
            continue
        if a <= left:
            left = max(left, b)
        elif b >= right:
            right = min(right, a)
        else:  # a piece inside the band: the wider side of it is what is left
            left, right = (left, a) if a - left >= right - b else (b, right)
    if right - left < widest:
        return False
    band.left, band.right, band.bottom = left, right, bottom
    after = [(a, b) for a, b in spans if a >= right]
    before = [(a, b) for a, b in spans if b <= left]
    if after and before:
        band.two_sided += 1
        assert band.aligned_starts is not None
        band.aligned_starts.append(after[0][0])
        band.widths[0].append(before[-1][1] - before[-1][0])
        band.widths[1].append(after[0][1] - after[0][0])
    return True


def _closed(band: _Band, glyph: float) -> list[Gutter]:
    if band.two_sided < GUTTER_LINES or not band.aligned_starts:
        return []
    aligned = sum(start - band.right <= ALIGNED_GLYPHS * glyph for start in band.aligned_starts)
    if aligned < ALIGNED_SHARE * len(band.aligned_starts) or not _columns_of_text(*band.widths):
        return []
    return [Gutter(band.left, band.right, band.top, band.bottom)]


def _columns_of_text(left: Sequence[float], right: Sequence[float]) -> bool:
    """Whether two sides of a gap are columns of running text, each read whole: lines of
    like widths. A narrow side beside a wide one is a column of labels (a date, a number,
    a marginal note) that goes with the line beside it, read across."""
    narrow, wide = sorted((statistics.median(left), statistics.median(right)))
    return narrow >= TEXT_COLUMNS * wide


def engine_gutters(words: Sequence[Word], glyph: float) -> list[Gutter]:
    """Gutters the engine's own layout saw: two of its blocks side by side, each of
    `GUTTER_LINES` lines or more at the same heights, paper between them that no word
    crosses, and the right one's lines starting at one edge. A narrow gutter of printed
    columns is narrower than a typed page's double spaces, but its columns are blocks
    the engine reads apart; the chance rivers of a typed page split it into blocks of a
    line or two whose right halves start anywhere."""
    if glyph <= 0:
        return []
    blocks: dict[int, list[Line]] = {}
    for line in engine_lines(words):
        blocks.setdefault(line.key[0], []).append(line)
    found = []
    for a in blocks.values():
        for b in blocks.values():
            gutter = _between(a, b, words, glyph)
            if gutter is not None:
                found.append(gutter)
    return found


def _between(left: Sequence[Line], right: Sequence[Line], words: Sequence[Word],
             glyph: float) -> Gutter | None:
    top = max(min(ln.top for ln in left), min(ln.top for ln in right))
    bottom = min(max(ln.bottom for ln in left), max(ln.bottom for ln in right))
    beside_left = [ln for ln in left if top <= ln.box.middle <= bottom]
    beside_right = [ln for ln in right if top <= ln.box.middle <= bottom]
    if min(len(beside_left), len(beside_right)) < GUTTER_LINES:
        return None
    edge = max(ln.right for ln in beside_left)
    start = min(ln.left for ln in beside_right)
    if start - edge < ENGINE_GUTTER_GLYPHS * glyph:
        return None
    aligned = sum(ln.left - start <= ALIGNED_GLYPHS * glyph for ln in beside_right)
    if aligned < ALIGNED_SHARE * len(beside_right) or not _columns_of_text(
            [ln.box.width for ln in beside_left], [ln.box.width for ln in beside_right]):
        return None
    if any(w.left < start and w.right > edge and top <= w.box.middle <= bottom for w in words):
        return None  # a word runs across: no gutter
    return Gutter(edge, start, top, bottom)


# --- lines -------------------------------------------------------------------------------

def cut_at_gutters(lines: Sequence[Line], gutters: Sequence[Gutter]) -> list[Line]:
    """Each line cut where it crosses a gutter: no line runs from one column into the next."""
    out: list[Line] = []
    for line in lines:
        crossed = sorted(g.x for g in gutters if g.crossed_by(line.box))
        if not crossed:
            out.append(line)
            continue
        parts: list[list[Word]] = [[] for _ in range(len(crossed) + 1)]
        for word in line.words:
            parts[sum(word.box.centre > x for x in crossed)].append(word)
        out += [Line(tuple(part)) for part in parts if part]
    return out


def page_lines(words: Sequence[Word], gutters: Sequence[Gutter]) -> list[Line]:
    """The page's lines in reading order, from the engine's words (and words read again,
    which go where they lie): each column of a band the gutters divide read whole, top to
    bottom, before the next; elsewhere the lines top to bottom; the pieces of one printed
    line that the engine read as separate lines side by side made one line again."""
    lines = engine_lines(words)
    gutters = [_extended(g, lines) for g in gutters]
    bands = _bands(gutters)
    pieces = cut_at_gutters(lines, gutters)
    places = [_place(piece, bands) for piece in pieces]
    placed: list[tuple[tuple[int, int], Line]] = []
    for place in sorted(set(places)):
        column = [p for p, where in zip(pieces, places, strict=True) if where == place]
        placed += [(place, _as_one(row)) for row in _join(column)]
    return _in_order(placed)


def _extended(gutter: Gutter, lines: Sequence[Line]) -> Gutter:
    """The gutter carried up and down the page through the lines that keep to one side
    of it, to the first line that runs across (a title, a footer)."""
    ordered = sorted(lines, key=lambda ln: ln.box.middle)
    crossing = [ln.box.middle for ln in ordered if ln.left < gutter.x < ln.right]
    top = max((m for m in crossing if m < gutter.top), default=None)
    bottom = min((m for m in crossing if m > gutter.bottom), default=None)
    above = [ln for ln in ordered if ln.box.middle < gutter.top
             and (top is None or ln.box.middle > top)]
    below = [ln for ln in ordered if ln.box.middle > gutter.bottom
             and (bottom is None or ln.box.middle < bottom)]
    return Gutter(gutter.left, gutter.right,
                  min([gutter.top, *(ln.top for ln in above)]),
                  max([gutter.bottom, *(ln.bottom for ln in below)]))


def _place(line: Line, bands: Sequence[_BandOf]) -> tuple[int, int]:
    """(band, column) of a line: band -1 outside every band, column 0 there."""
    for i, (top, bottom, xs) in enumerate(bands):
        if top <= line.box.middle <= bottom:
            return i, sum(line.box.centre > x for x in xs)
    return -1, 0


def _join(pieces: Sequence[Line]) -> list[list[Line]]:
    """Pieces of one column gathered into its lines: a piece joins a line it is level
    with and beside (each of its pieces); top to bottom."""
    rows: list[list[Line]] = []
    for piece in sorted(pieces, key=lambda p: p.top):
        row = next((r for r in reversed(rows)
                    if all(same_line(piece.box, other.box) and side_by_side(piece.box, other.box)
                           for other in r)), None)
        if row is None:
            rows.append([piece])
        else:
            row.append(piece)
    return rows


def _as_one(row: Sequence[Line]) -> Line:
    if len(row) == 1:
        return row[0]
    ordered = sorted(row, key=lambda p: p.left)
    key = ordered[0].key
    return Line(tuple(Word(w.text, w.conf, w.box, key)
                      for piece in ordered for w in sorted(piece.words, key=lambda w: w.left)))


def _in_order(placed: Sequence[tuple[tuple[int, int], Line]]) -> list[Line]:
    """Lines top to bottom, except that a band's columns come whole, one after the other,
    where the band's first line is."""
    out: list[Line] = []
    done: set[int] = set()
    for (band, _), line in sorted(placed, key=lambda item: item[1].top):
        if band < 0:
            out.append(line)
        elif band not in done:
            done.add(band)
            out += [ln for (b, _), ln in sorted(placed, key=lambda i: (i[0], i[1].top))
                    if b == band]
    return out


_BandOf = tuple[int, int, list[float]]


def _bands(gutters: Sequence[Gutter]) -> list[_BandOf]:
    """Gutters at overlapping heights as one band: (top, bottom, the gutters' x)."""
    bands: list[_BandOf] = []
    for g in sorted(gutters, key=lambda g: g.top):
        if bands and g.top <= bands[-1][1]:
            top, bottom, xs = bands[-1]
            bands[-1] = (top, max(bottom, g.bottom), sorted([*xs, g.x]))
        else:
            bands.append((g.top, g.bottom, [g.x]))
    return bands
