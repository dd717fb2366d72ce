"""A deed's lines as they lie on the page: pieces of one printed line read as one line.

tesseract's layout analysis can take a wide typewriter space, repeated down the page, for
a gap between columns, and read the page as two blocks, the left halves of the lines and
then the right halves: every word right, the text unreadable. A deed is one column of
text, so pieces the engine read as separate lines, side by side at the same height, are
one line of the page, read left to right, and the page's lines go top to bottom.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from ocrmp.ocr.engines import Word

# Two pieces share a line when they overlap by this share of the shorter one's height:
# lines of a page never overlap by half, a word's descender into the line below does not
# reach it, and a piece a degree askew still does.
SAME_LINE = 0.5


@dataclass(frozen=True)
class Line:
    """One line as the engine read it (or as the page holds it): its words and their box."""

    words: tuple[Word, ...]

    @property
    def top(self) -> int:
        return min(w.top for w in self.words)

    @property
    def bottom(self) -> int:
        return max(w.bottom for w in self.words)

    @property
    def left(self) -> int:
        return min(w.left for w in self.words)

    @property
    def right(self) -> int:
        return max(w.right for w in self.words)

    @property
    def text(self) -> str:
        return " ".join(w.text for w in self.words)


def group_lines(words: Sequence[Word]) -> list[Line]:
    """The engine's lines, in its order: runs of words with one line key."""
    runs: list[list[Word]] = []
    for word in words:
        if runs and runs[-1][-1].line_key == word.line_key:
            runs[-1].append(word)
        else:
            runs.append([word])
    return [Line(tuple(run)) for run in runs]


def vertical_overlap(a: Line, b: Line) -> float:
    """How much the two overlap in height, as a share of the shorter one."""
    shorter = min(a.bottom - a.top, b.bottom - b.top)
    return (min(a.bottom, b.bottom) - max(a.top, b.top)) / shorter if shorter > 0 else 0.0


def side_by_side(a: Line, b: Line) -> bool:
    return a.right <= b.left or b.right <= a.left


def fits(piece: Line, row: Sequence[Line]) -> bool:
    """Whether the piece is more of the row's line: level with each piece, beside it."""
    return all(vertical_overlap(piece, other) >= SAME_LINE and side_by_side(piece, other)
               for other in row)


def page_lines(pieces: Sequence[Line]) -> list[list[Line]]:
    """The pieces gathered into the page's lines, top to bottom, each left to right."""
    rows: list[list[Line]] = []
    for piece in sorted(pieces, key=lambda p: p.top):
        row = next((r for r in reversed(rows) if fits(piece, r)), None)
        if row is None:
            rows.append([piece])
        else:
            row.append(piece)
    rows.sort(key=lambda r: min(p.top for p in r))
    return [sorted(row, key=lambda p: p.left) for row in rows]


def in_page_lines(words: Sequence[Word]) -> list[Word]:
    """The words line by line as they lie on the page, each line left to right (the
    engine's pieces of a split line can hold their words out of order); the words of a
    line share the line key of its leftmost piece, so that the text puts them on one line."""
    ordered: list[Word] = []
    for row in page_lines(group_lines(words)):
        key = row[0].words[0].line_key
        line = sorted((w for piece in row for w in piece.words), key=lambda w: w.left)
        ordered.extend(replace(w, line_key=key) for w in line)
    return ordered
