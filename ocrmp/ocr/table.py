"""A ledger's table from the words of one recognition: lines, columns, rows and cells.

Pure functions of word boxes (and of the ruling lines found, when there are any).

- Lines: the page's lines of words (`geometry.lines_of`).
- The header: the lines that name columns (two different fields at least), with any line
  right against them (a two-level header's upper or lower labels).
- Columns: the vertical rules when they frame the table; otherwise where the words of
  the table's lines leave a gap that (almost) no line crosses.
- Rows: lines belong to one row until a horizontal rule, a gap taller than a line's
  spacing inside a cell, or a second value in a column that holds one per row (the
  date, the number) says a new one starts. Cells that wrap over several lines (several
  parties, several roles) stay in their row.

Nothing is dropped: a line that falls outside the table stays in the page's text.
"""

from __future__ import annotations

import re
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from ocrmp.ocr.geometry import Box, Line, Word
from ocrmp.ocr.headers import column_field, is_header_line, label_field, label_fields
from ocrmp.ocr.records import Field

# A gap between two lines taller than this share of a line's height starts a new row,
# where no rule says so: lines of one cell are set closer than the rows are.
ROW_GAP = 1.1
# A column gap is crossed by at most this share of the table's lines (a title, a note).
CROSSING_SHARE = 1 / 7
# Cells are padded on both sides: a column gap is wider than a word space (about a third
# of the text height) even where a cell is full.
COLUMN_GAP = 1.2
CELL_SEPARATOR = " | "
GROUP_OVERLAP = 0.15  # share of a label over a column that makes it cover the column
# Fields a row holds one value of: a second one in the same row starts the next row.
ANCHORS = ("date", "numero")
_WHOLE_DATE = re.compile(r"\d{1,4} ?[-/.] ?\d{1,2} ?[-/.] ?\d{2,4}|\d{1,2} [^\W\d_]{3,}\.? \d{2,4}"
                         r"|[^\W\d_]{3,}\.? \d{1,2},? \d{4}")
_WHOLE_NUMBER = re.compile(r"(?:\d[ -]?){4,}")


@dataclass
class Table:
    fields: list[Field] = field(default_factory=list)
    header: list[Line] = field(default_factory=list)
    rows: list[list[list[str]]] = field(default_factory=list)  # row, column, lines
    body: list[Line] = field(default_factory=list)  # the lines the rows were made of
    cells: list[tuple[int, int, Box]] = field(default_factory=list)  # row, column, box
    columns: list[int] = field(default_factory=list)  # boundaries, edges included
    above: list[Line] = field(default_factory=list)
    below: list[Line] = field(default_factory=list)

    @property
    def read(self) -> bool:
        return len(self.columns) >= 3 and bool(self.rows)


def column(x: float, columns: Sequence[int]) -> int | None:
    """Index of the column holding x, None outside the table."""
    for i in range(len(columns) - 1):
        if columns[i] <= x < columns[i + 1]:
            return i
    return None


def columns_from_words(lines: Sequence[Line]) -> list[int]:
    """Column boundaries where (almost) no line's words cross a wide vertical gap."""
    words = [w for line in lines for w in line.words if any(c.isalnum() for c in w.text)]
    if not words:
        return []
    min_gap = COLUMN_GAP * statistics.median(w.height for w in words)
    return column_gaps([(w.left, w.right) for w in words], min_gap)


def column_gaps(spans: Sequence[tuple[int, int]], min_gap: float) -> list[int]:
    """Boundaries, edges included, in the gaps at least `min_gap` wide that (almost) no
    span of text crosses: at most `CROSSING_SHARE` of as many as fill a column there
    typically (the median, over the x where text stands, of the spans standing there), so
    that a note running over stays a note, however the spans' lines were counted; and a
    column filled on a few rows only, with paper on both of its sides, stays a column."""
    left, right = min(a for a, _ in spans), max(b for _, b in spans)
    coverage = _coverage(spans, left, right)
    typical = typical_fill(spans)
    bounds = [left]
    for start, end in _runs(coverage <= int(typical * CROSSING_SHARE), min_gap):
        if start == 0:
            continue
        # Paper on both sides of what stands in the gap: a sparse column, each side a
        # boundary; else the gap's middle.
        clear = _runs(np.append(coverage[start:end] == 0, False), min_gap)
        if len(clear) >= 2:
            bounds += [left + start + (a + b) // 2 for a, b in clear]
        else:
            bounds.append(left + (start + end) // 2)
    return [*bounds, right + 1]


def _coverage(spans: Sequence[tuple[int, int]], left: int, right: int) -> np.ndarray:
    """How many spans stand over each x from `left` to `right`."""
    coverage = np.zeros(right - left + 1, dtype=np.int32)
    for a, b in spans:
        coverage[max(0, a - left):max(0, b - left)] += 1
    return coverage


def typical_fill(spans: Sequence[tuple[int, int]]) -> float:
    """How many of the spans stand over a column of text, typically: the median over the
    x where any stands. A measure of a table's rows that does not depend on how its
    lines were counted."""
    if not spans:
        return 0.0
    coverage = _coverage(spans, min(a for a, _ in spans), max(b for _, b in spans))
    return float(np.median(coverage[coverage > 0])) if coverage.any() else 0.0


def _runs(empty: np.ndarray, min_gap: float) -> list[tuple[int, int]]:
    """(start, end) of each run of True at least `min_gap` long, ending before the last
    element (a run reaching the end is the table's right margin, not a gap)."""
    runs, start = [], None
    for x, is_empty in enumerate(empty):
        if is_empty and start is None:
            start = x
        elif not is_empty and start is not None:
            if x - start >= min_gap:
                runs.append((start, x))
            start = None
    return runs


def columns_from_rules(rules_x: Sequence[int], lines: Sequence[Line]) -> list[int]:
    """The vertical rules as column boundaries, closed by the words' own edges where the
    table's outer rules are missing."""
    words = [w for line in lines for w in line.words]
    if len(rules_x) < 2 or not words:
        return []
    bounds = sorted(set(rules_x))
    left, right = min(w.left for w in words), max(w.right for w in words)
    # Text beyond an outer rule by more than a word's height: that rule is an inner one.
    # Marks of the margin (a scanner's edge read as "E") are no column's text.
    slack = statistics.median(w.height for w in words)
    text = [w for w in words if not is_margin_mark(w)]
    if sum(w.left < bounds[0] - slack for w in text) >= OUTER_WORDS:
        bounds.insert(0, left)
    else:
        bounds[0] = min(bounds[0], max(left, bounds[0] - round(slack)))
    if sum(w.right > bounds[-1] + slack for w in text) >= OUTER_WORDS:
        bounds.append(right + 1)
    else:
        bounds[-1] = max(bounds[-1], min(right + 1, bounds[-1] + round(slack)))
    return bounds


OUTER_WORDS = 2  # words beyond a table's outer rule that make a column there


def find_header(lines: Sequence[Line],
                rules_y: Sequence[int] = ()) -> tuple[int, int] | None:
    """(first, last + 1) of the header lines, None on a page whose columns are not named.

    The header is the first line that names columns, with the lines around it that are
    labels too: another line naming columns ("DATE  N°" under "ENREGISTREMENT"), or a
    line of label words set right against it (a label's second line, a group label); a
    rule below it ends it, unless the line below the rule names columns too (the labels
    under a group label, ruled off from it).
    """
    for i, line in enumerate(lines):
        if not _names_columns(line):
            continue
        first = i
        while first > 0 and _label_line(lines[first - 1], lines[first]):
            first -= 1
        return first, _header_end(lines, i + 1, rules_y)
    return None


def _header_end(lines: Sequence[Line], last: int, rules_y: Sequence[int]) -> int:
    """Past the header's last line: further lines join it while they name columns or are
    labels set against it, and a line of neither (labels misread under a stain) when a
    label line follows it before any figure."""
    j = last
    while j < len(lines) and j - last <= HEADER_SKIP:
        ruled = _ruled_between(lines[j - 1], lines[j], rules_y)
        if _names_columns(lines[j]) or (not ruled and _label_line(lines[j], lines[j - 1])):
            last = j + 1
        elif _has_digit(lines[j]):
            break
        j += 1
    return last


HEADER_SKIP = 1  # lines of neither labels nor figures a header may hold between its labels


def _has_digit(line: Line) -> bool:
    return any(c.isdigit() for c in line.text)


def _ruled_between(upper: Line, lower: Line, rules_y: Sequence[int]) -> bool:
    return any(upper.bottom <= y <= lower.top + lower.height / 2 for y in rules_y)


def _names_columns(line: Line) -> bool:
    return is_header_line([w.text for w in line.words])


def _label_line(line: Line, neighbour: Line) -> bool:
    """A line of labels beside a header line: close to it and without figures; below
    it, with a label word too (a first data line set against the header has none:
    "vendeur", a name), where above it a group label need not name a field."""
    upper, lower = (line, neighbour) if line.top < neighbour.top else (neighbour, line)
    close = lower.top - upper.bottom < ROW_GAP * max(upper.height, lower.height)
    below = line is lower
    return (close and not any(c.isdigit() for c in line.text)
            and (not below or bool(label_fields(line.text))))


def name_columns(header: Sequence[Line], columns: Sequence[int]) -> list[Field]:
    """Each column's field from the header words above it. A label (words of one line
    set close together) that spans several columns is their group ("ENREGISTREMENT" over
    "DATE" and "N°", "NAMES OF PARTIES" over two sides); the others are the column's own,
    however many lines they wrap over."""
    count = len(columns) - 1
    own: list[list[str]] = [[] for _ in range(count)]
    group: list[list[str]] = [[] for _ in range(count)]
    for line in header:
        for label in _labels(line):
            left, right = label[0].left, label[-1].right
            # A label covers a column it overlaps by a good part of itself: its box may
            # run a few pixels past a rule it touches.
            covered = [i for i in range(count) if min(right, columns[i + 1])
                       - max(left, columns[i]) > GROUP_OVERLAP * (right - left)]
            texts = [w.text for w in label]
            if len(covered) > 1:
                for i in covered:
                    group[i] += texts
            elif covered:
                # A label wider than its column ("NATURE OF THE DEED" over a narrow one)
                # runs into the next one's space: it stays whole with the one it is over.
                own[covered[0]] += texts
            else:
                for word in label:
                    index = column(word.box.centre, columns)
                    if index is not None:
                        own[index].append(word.text)
    fields = []
    for labels, groups in zip(own, group, strict=True):
        text, upper = " ".join(labels), " ".join(groups)
        key = column_field(upper, text)
        side = text if key == "parties" and upper and label_field(upper) == "parties" else None
        fields.append(Field(key, text, upper, side))
    return fields


def _labels(line: Line) -> list[list[Word]]:
    """A header line's labels: runs of words no further apart than a word space."""
    labels: list[list[Word]] = []
    for word in line.words:
        if labels and word.left - labels[-1][-1].right <= COLUMN_GAP * line.height:
            labels[-1].append(word)
        else:
            labels.append([word])
    return labels


def header_text(fields: Sequence[Field]) -> list[str]:
    """The header as lines of cells: each column's label or its group's (once), then the
    labels under the groups."""
    upper: list[str] = []
    for f in fields:
        cell = f.group or f.label
        if not (f.group and upper and upper[-1] == cell):
            upper.append(cell)
    lower = [f.label for f in fields if f.group]
    return [CELL_SEPARATOR.join(cells) for cells in (upper, lower) if any(cells)]


def split_rows(lines: Sequence[Line], rules_y: Sequence[int], columns: Sequence[int],
               fields: Sequence[Field]) -> list[list[Line]]:
    """Body lines grouped into rows (see the module's docstring)."""
    anchors = [i for i, f in enumerate(fields) if f.key in ANCHORS]
    rows: list[list[Line]] = []
    for line in lines:
        if rows and not _new_row(rows[-1], line, rules_y, columns, anchors, fields):
            rows[-1].append(line)
        else:
            rows.append([line])
    return rows


def _new_row(row: Sequence[Line], line: Line, rules_y: Sequence[int],
             columns: Sequence[int], anchors: Sequence[int], fields: Sequence[Field]) -> bool:
    above = row[-1]
    if any(above.bottom <= y <= line.top + line.height / 2 for y in rules_y):
        return True
    if line.top - above.bottom > ROW_GAP * max(line.height, above.height):
        return True
    return any(_anchor(row_line, a, columns, fields) for row_line in row
               for a in anchors) and any(_anchor(line, a, columns, fields) for a in anchors)


def _anchor(line: Line, index: int, columns: Sequence[int],
            fields: Sequence[Field]) -> bool:
    """Whether the line holds a whole value of an anchor column (a date, a number): a
    wrapped one ("25" over "décembre" over "1976") is not one until it is whole."""
    text = " ".join(w.text for w in line.words if column(w.box.centre, columns) == index)
    pattern = _WHOLE_DATE if fields[index].key == "date" else _WHOLE_NUMBER
    return pattern.search(text) is not None


def cells_of(row: Sequence[Line], columns: Sequence[int]) -> list[list[str]]:
    """Each column's lines in one row."""
    cells: list[list[str]] = [[] for _ in range(len(columns) - 1)]
    for line in row:
        parts: dict[int, list[str]] = {}
        for word in line.words:
            index = column(word.box.centre, columns)
            if index is not None:
                parts.setdefault(index, []).append(word.text)
        for index, texts in parts.items():
            cells[index].append(" ".join(texts))
    return cells


def cell_boxes(row: Sequence[Line], columns: Sequence[int]) -> dict[int, Box]:
    """The box of each column's words in one row, by column; columns without words left
    out."""
    placed: dict[int, list[Box]] = {}
    for word in (w for line in row for w in line.words):
        index = column(word.box.centre, columns)
        if index is not None:
            placed.setdefault(index, []).append(word.box)
    return {index: Box.around(boxes) for index, boxes in sorted(placed.items())}


def in_table(line: Line, columns: Sequence[int]) -> bool:
    """Whether a line is the table's: every word in a column, but for a mark or two of
    the margin (a scanner's edge is often read as "E" or "|" beside each line)."""
    outside = [w for w in line.words if column(w.box.centre, columns) is None]
    return len(outside) < len(line.words) and all(map(is_margin_mark, outside))


MARGIN_MARK = 2  # characters: what a mark in the margin is read as, at most


def is_margin_mark(word: Word) -> bool:
    """A word too short to be a column's text: a scanner's edge read as "E" or "|"."""
    return len(word.text) <= MARGIN_MARK
