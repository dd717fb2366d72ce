"""The page's geometry: one box, one word, one line, and one rule for what shares a line.

Every reader places what it reads with these: the engine's words, the pieces of ink the
analysis finds, the cells of a table. Two things share a line when they overlap in height
by half the shorter one's height (`same_line`): lines of a page never overlap by half, a
word's descender into the line below does not reach it, and a piece a degree askew still
does. Boxes are in pixels of the page as it is read, (left, top, right, bottom), right and
bottom exclusive.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property

SAME_LINE = 0.5

LineKey = tuple[int, int, int]  # (block, paragraph, line), numbered as the engine does


@dataclass(frozen=True, slots=True)
class Box:
    left: int
    top: int
    right: int
    bottom: int

    @property
    def width(self) -> int:
        return self.right - self.left

    @property
    def height(self) -> int:
        return self.bottom - self.top

    @property
    def centre(self) -> float:
        return (self.left + self.right) / 2

    @property
    def middle(self) -> float:
        return (self.top + self.bottom) / 2

    @staticmethod
    def around(boxes: Iterable[Box]) -> Box:
        items = list(boxes)
        return Box(min(b.left for b in items), min(b.top for b in items),
                   max(b.right for b in items), max(b.bottom for b in items))

    def x_overlap(self, other: Box) -> int:
        return min(self.right, other.right) - max(self.left, other.left)

    def y_overlap(self, other: Box) -> int:
        return min(self.bottom, other.bottom) - max(self.top, other.top)

    def intersects(self, other: Box) -> bool:
        return self.x_overlap(other) > 0 and self.y_overlap(other) > 0

    def contains(self, other: Box) -> bool:
        return (self.left <= other.left and self.top <= other.top
                and self.right >= other.right and self.bottom >= other.bottom)

    def padded(self, margin: float) -> Box:
        m = round(margin)
        return Box(self.left - m, self.top - m, self.right + m, self.bottom + m)

    def shifted(self, dx: int, dy: int) -> Box:
        return Box(self.left + dx, self.top + dy, self.right + dx, self.bottom + dy)

    def clipped(self, width: int, height: int) -> Box:
        return Box(max(0, self.left), max(0, self.top), min(width, self.right),
                   min(height, self.bottom))


def same_line(a: Box, b: Box) -> bool:
    """Whether two boxes lie on one line of the page (see the module's docstring)."""
    shorter = min(a.height, b.height)
    return shorter > 0 and a.y_overlap(b) >= SAME_LINE * shorter


def side_by_side(a: Box, b: Box) -> bool:
    """Whether two boxes stand one beside the other, not over one another."""
    return a.right <= b.left or b.right <= a.left


@dataclass(frozen=True, slots=True)
class Word:
    """A word as the engine read it: its text, confidence (0-100), box and engine line."""

    text: str
    conf: float
    box: Box
    key: LineKey = (0, 0, 0)

    @property
    def left(self) -> int:
        return self.box.left

    @property
    def top(self) -> int:
        return self.box.top

    @property
    def right(self) -> int:
        return self.box.right

    @property
    def bottom(self) -> int:
        return self.box.bottom

    @property
    def width(self) -> int:
        return self.box.width

    @property
    def height(self) -> int:
        return self.box.height

    def moved(self, dx: int, dy: int, key: LineKey | None = None) -> Word:
        return Word(self.text, self.conf, self.box.shifted(dx, dy),
                    self.key if key is None else key)


def mean_confidence(words: Iterable[Word]) -> float:
    confs = [w.conf for w in words]
    return float(sum(confs) / len(confs)) if confs else 0.0


@dataclass(frozen=True)
class Line:
    """Words on one line of the page, left to right (or in the engine's order)."""

    words: tuple[Word, ...]

    @cached_property
    def box(self) -> Box:
        return Box.around(w.box for w in self.words)

    @property
    def text(self) -> str:
        return " ".join(w.text for w in self.words)

    @property
    def top(self) -> int:
        return self.box.top

    @property
    def bottom(self) -> int:
        return self.box.bottom

    @property
    def left(self) -> int:
        return self.box.left

    @property
    def right(self) -> int:
        return self.box.right

    @property
    def height(self) -> float:
        """Its words' median height: a tall mark beside it does not make the line tall."""
        return float(statistics.median(w.height for w in self.words))

    @property
    def conf(self) -> float:
        return mean_confidence(self.words)

    @property
    def key(self) -> LineKey:
        return self.words[0].key



def engine_lines(words: Sequence[Word]) -> list[Line]:
    """The engine's lines, in its order: runs of words under one line key."""
    runs: list[list[Word]] = []
    for word in words:
        if runs and runs[-1][-1].key == word.key:
            runs[-1].append(word)
        else:
            runs.append([word])
    return [Line(tuple(run)) for run in runs]


def lines_of(words: Iterable[Word]) -> list[Line]:
    """Words grouped into the lines they lie on, top to bottom, each left to right."""
    items = list(words)
    groups = group_by_line([w.box for w in items])
    lines = [Line(tuple(sorted((items[i] for i in g), key=lambda w: w.left))) for g in groups]
    return sorted(lines, key=lambda line: line.top)


def group_by_line(boxes: Sequence[Box]) -> list[list[int]]:
    """Indexes of the boxes that share a line, grouped, top to bottom.

    A box joins a line it shares a line with, judged against the line's core (its boxes'
    median top and bottom), so a line does not grow over the lines around it and the
    labels of a header set at two levels stay two lines.
    """
    groups: list[list[int]] = []
    cores: list[Box] = []
    for i in sorted(range(len(boxes)), key=lambda k: boxes[k].middle):
        box = boxes[i]
        for g in range(len(groups) - 1, max(-1, len(groups) - 5), -1):
            if same_line(box, cores[g]):
                groups[g].append(i)
                cores[g] = _core([boxes[k] for k in groups[g]])
                break
        else:
            groups.append([i])
            cores.append(box)
    return groups


def _core(boxes: Sequence[Box]) -> Box:
    return Box(min(b.left for b in boxes), round(statistics.median(b.top for b in boxes)),
               max(b.right for b in boxes), round(statistics.median(b.bottom for b in boxes)))
