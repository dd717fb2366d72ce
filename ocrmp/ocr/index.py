"""Index ledgers: the page read a column at a time, its words placed into the table's cells.

The page is cleaned for a table (deskewed, binarised, its ruling found and removed). Its
columns are known before anything is read: from the vertical rules, or from the gaps
that the ink's line pieces leave between columns. Each column is then read as one strip
(tesseract's single-column layout), the page header above the table and the table's
header band as wholes: inside a strip every cell's lines are clean lines, where a
whole-page pass joins cells set at different heights into one skewed line. No text the
page shows may be lost: ink that no recognised word covers (a lone digit, a line a pass
skipped) is read again on its own and added. The words then make the table (`table`):
rows and columns from the ruling, the header and the words' alignment, every line kept;
each row becomes a record of the real formats' fields (`records`). A page without
columns is read whole; one whose table cannot be read keeps its whole text and is
flagged `table_unread`.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ocrmp.ocr import analysis, preprocess
from ocrmp.ocr import ruling as ruling_lines
from ocrmp.ocr.engines import Engine, Word
from ocrmp.ocr.headers import page_fields
from ocrmp.ocr.pages import PageImage
from ocrmp.ocr.prepare import prepare_page
from ocrmp.ocr.reading import page_result
from ocrmp.ocr.recheck import (
    reread_missed,
    second_opinion,
    uncovered,
    unread_share,
    without_remnants,
)
from ocrmp.ocr.records import Field, make_record, strip_specks
from ocrmp.ocr.result import PageResult
from ocrmp.ocr.settings import OcrSettings
from ocrmp.ocr.table import (
    CELL_SEPARATOR,
    MARGIN_MARK,
    Table,
    TextLine,
    cells_of,
    column,
    column_gaps,
    columns_from_rules,
    columns_from_words,
    find_header,
    header_text,
    in_table,
    is_margin_mark,
    name_columns,
    split_rows,
    visual_lines,
)
from ocrmp.ocr.trust import keep_text
from ocrmp.vocabulary import Kind, PageFlag

PAGE_PSM = 3  # a page, or the part above its table: automatic layout
STRIP_PSM = 4  # one column: a single column of text of varying sizes
BAND_PSM = 6  # the header band: one block of labels
STRIP_INSET = 3  # px kept clear of a column boundary (a rule's remnant, the next cell)


def read_index_page(page: PageImage, engine: Engine, settings: OcrSettings) -> PageResult:
    started = time.perf_counter()
    prepared = prepare_page(page, engine, settings.dpi)
    # Kept grey, as deeds are: tesseract thresholds better than we do, and reads the grey.
    cleaned = preprocess.clean_page(prepared.image, Kind.INDEX, borders=False, flatten=False,
                                    threshold=False, skew=prepared.skew_deg)
    res = prepared.resolution
    image = ruling_lines.erase_remnants(cleaned.image, res.x_height_px * res.scale)
    cleaned_at = time.perf_counter()
    dpi = res.engine_dpi
    ruling = cleaned.ruling
    rules_y, rules_x = (ruling.rows_y, ruling.cols_x) if ruling else ([], [])
    plan = plan_reading(image, rules_y, rules_x)
    kept = keep_text(without_remnants(
        second_opinion(image, read_planned(image, plan, engine, dpi), engine, dpi)))
    gaps = uncovered(image, kept.words)
    missed = keep_text(without_remnants(second_opinion(
        image, reread_missed(image, gaps, engine, dpi), engine, dpi))).words
    read_at = time.perf_counter()
    words = [*kept.words, *missed]
    table = read_table(words, rules_y, rules_x, plan.columns)
    done = time.perf_counter()
    timings = {**prepared.timings_ms, **{f"preprocess_{k}": v
                                          for k, v in cleaned.timings_ms.items()}}
    timings.update(preprocess=(cleaned_at - started) * 1000, engine=(read_at - cleaned_at) * 1000,
                   table=(done - read_at) * 1000, reread=float(len(missed)))
    return page_result(page, prepared, settings, text=table_text(table, words), words=words,
                       rejected=kept.rejected, skew=cleaned.skew_deg, timings=timings,
                       rows=records(table), table=table_json(table),
                       also=[] if table.read else [PageFlag.TABLE_UNREAD],
                       unread=unread_share(gaps, words))


# --- reading -----------------------------------------------------------------------------

@dataclass(frozen=True)
class Plan:
    """How a page is read: the part above `top` whole, then each column as a strip."""

    top: int
    columns: list[int]  # strip boundaries; none: the page is read whole
    rules_y: Sequence[int] = ()


def plan_reading(image: np.ndarray, rules_y: Sequence[int], rules_x: Sequence[int]) -> Plan:
    """Where the table starts and where its columns are, before anything is read.

    Columns: the vertical rules, else the gaps that the page's line pieces leave. The
    table starts at its first line whose pieces each keep to one column: the title and
    the page header's lines run across the columns and are read whole above it.
    """
    ink = analysis.ink_of(image)
    size = analysis.glyph_size(analysis.glyph_components(analysis.component_stats(ink.mask),
                                                         ink.mask.shape))
    if not size:
        return Plan(0, [])
    r = ink.reduction
    pieces = analysis.segments(ink.mask, PLAN_GAP * size)
    if not len(pieces):
        return Plan(0, [])
    rows = _piece_rows(pieces)
    # Where the table starts: its first rule, else its first line of several pieces. Only
    # the lines from there on say where its columns are; the title and the page header
    # above run across them.
    start = round(min(rules_y) / r) if rules_y else _first_wide_row(pieces, rows)
    table_rows = [row for row in rows if min(pieces[i, 1] for i in row) >= start - size]
    inside = [i for row in table_rows for i in row]
    spans = [(int(pieces[i, 0] * r), int((pieces[i, 0] + pieces[i, 2]) * r)) for i in inside]
    if not spans:
        return Plan(0, [])
    gaps = column_gaps(spans, analysis.segment_gap(PLAN_GAP * size) * r, len(table_rows))
    columns = with_rules(gaps, rules_x, size * r, spans, len(table_rows))
    if len(columns) < 3:
        return Plan(0, [])
    if rules_y:
        return Plan(max(0, round(min(rules_y) - size * r)), columns, rules_y)
    for row in table_rows:
        lefts = [int(pieces[i, 0] * r) for i in row]
        rights = [int((pieces[i, 0] + pieces[i, 2]) * r) for i in row]
        held = {column((a + b) / 2, columns) for a, b in zip(lefts, rights, strict=True)}
        crossing = any(column(a, columns) != column(b - 1, columns)
                       for a, b in zip(lefts, rights, strict=True))
        if len(held - {None}) >= 2 and not crossing:
            top = min(int(pieces[i, 1] * r) for i in row)
            return Plan(max(0, top - round(size * r)), columns)
    return Plan(0, [])


MIN_TABLE_CELLS = 3  # pieces on one line: the table (its header) has started


def _first_wide_row(pieces: np.ndarray, rows: list[list[int]]) -> float:
    for row in rows:
        if len(row) >= MIN_TABLE_CELLS:
            return float(min(pieces[i, 1] for i in row))
    return 0.0


def with_rules(gaps: Sequence[int], rules_x: Sequence[int], glyph: float,
               spans: Sequence[tuple[int, int]], rows: int) -> list[int]:
    """The vertical rules, and the gaps between columns where no rule was found (a
    broken or faint one): a column boundary either way."""
    if len(rules_x) < 2:
        return list(gaps)
    return refine(sorted(rules_x), gaps, glyph, spans, rows)


def refine(bounds: Sequence[int], gaps: Sequence[int], glyph: float,
           spans: Sequence[tuple[int, int]], rows: int) -> list[int]:
    """`bounds` with the inner `gaps` that split one of their columns in two. A gap
    counts only where text stands on both sides of it within its column, in a fifth of
    the rows at least: the empty end of a column of short values is no column."""
    inner = []
    for x in gaps[1:-1]:
        if any(abs(x - bound) <= 2 * glyph for bound in bounds):
            continue
        left = max((b for b in bounds if b < x), default=x)
        right = min((b for b in bounds if b > x), default=x)
        before = sum(left <= a and b <= x for a, b in spans)
        after = sum(x <= a and b <= right for a, b in spans)
        if min(before, after) >= max(2, SIDE_SHARE * rows):
            inner.append(x)
    return sorted({*bounds, *inner})


SIDE_SHARE = 0.2


# Pieces for planning close wider spaces than a face's word space: a monospace number's
# spaces line up from row to row and must not pass for a column gap.
PLAN_GAP = 1.3


def _piece_rows(pieces: np.ndarray) -> list[list[int]]:
    """Indexes of pieces on one line (overlapping vertically), top to bottom."""
    rows: list[list[int]] = []
    spans: list[tuple[int, int]] = []
    for i in np.argsort(pieces[:, 1] + pieces[:, 3] / 2):
        top, bottom = int(pieces[i, 1]), int(pieces[i, 1] + pieces[i, 3])
        if spans and min(bottom, spans[-1][1]) - max(top, spans[-1][0]) > 0:
            rows[-1].append(int(i))
            spans[-1] = (min(top, spans[-1][0]), max(bottom, spans[-1][1]))
        else:
            rows.append([int(i)])
            spans.append((top, bottom))
    return rows


def read_planned(image: np.ndarray, plan: Plan, engine: Engine, dpi: float) -> list[Word]:
    """The page's words read as planned; the table's header band read whole at the end."""
    if not plan.columns:
        return engine.recognize(image, psm=PAGE_PSM, dpi=dpi).words
    top = max(0, plan.top)
    words = _read_box(image, (0, 0, image.shape[1], top), engine, PAGE_PSM, dpi)
    for x0, x1 in zip(plan.columns, plan.columns[1:], strict=False):
        words += _read_box(image, (x0 + STRIP_INSET, top, x1 - STRIP_INSET, image.shape[0]),
                           engine, STRIP_PSM, dpi)
    return _header_read_whole(image, words, engine, dpi, plan)


def _read_box(image: np.ndarray, box: tuple[int, int, int, int], engine: Engine, psm: int,
              dpi: float) -> list[Word]:
    """Words of one box of the page, in page coordinates; none for an empty box."""
    x0, y0, x1, y1 = max(0, box[0]), max(0, box[1]), box[2], box[3]
    crop = image[y0:y1, x0:x1]
    if crop.size == 0 or not (crop < 128).any():
        return []
    return [Word(w.text, w.conf, w.left + x0, w.top + y0, w.width, w.height, w.line_key)
            for w in engine.recognize(np.ascontiguousarray(crop), psm=psm, dpi=dpi).words]


def _header_read_whole(image: np.ndarray, words: list[Word], engine: Engine, dpi: float,
                       plan: Plan) -> list[Word]:
    """Strips cut a group label spanning columns ("ENREGISTREMENT") into pieces: once
    the header is found, its band (from the table's top to its first line with a figure)
    is read again as one block and replaces them."""
    lines = visual_lines(words)
    span = find_header(lines, plan.rules_y)
    if span is None:
        return words
    top = min(plan.top, lines[span[0]].top)
    first_data = next((line for line in lines[span[1]:]
                       if any(c.isdigit() for c in line.text)), None)
    bottom = first_data.top - 1 if first_data is not None else lines[span[1] - 1].bottom
    whole = [w for w in _read_box(image, (0, top, image.shape[1], bottom), engine, BAND_PSM,
                                  dpi) if top <= (w.top + w.bottom) / 2 <= bottom]
    if not whole:
        return words
    outside = [w for w in words if not top <= (w.top + w.bottom) / 2 <= bottom]
    return [*outside, *whole]


# --- the table ---------------------------------------------------------------------------

def read_table(words: Sequence[Word], rules_y: Sequence[int], rules_x: Sequence[int],
               planned: Sequence[int] = ()) -> Table:
    """The table of a page's words; its header, rows and cells (see `table`). Columns
    come from the plan the page was read by (the rules, and the gaps its line pieces
    leave, which bridge the spaces of a monospace number where words do not), else from
    the rules alone, else from the words."""
    lines = visual_lines(words)
    span = find_header(lines, rules_y)
    if span is None:
        first = _first_ruled_line(lines, rules_y)
        above, header, body = lines[:first], [], lines[first:]
    else:
        above, header, body = lines[:span[0]], list(lines[span[0]:span[1]]), lines[span[1]:]
    framed = [*header, *body]
    # Labels are centred over their columns and often wider than the gaps between them:
    # the body's words say where the columns are.
    columns = (columns_from_rules(_framing(planned, framed), framed)
               or columns_from_rules(_framing(rules_x, framed), framed)
               or columns_from_words(body or framed))
    table = Table(header=header, columns=columns, above=list(above))
    if len(columns) < 3:
        table.below = list(body)
        return table
    inside = [line for line in body if in_table(line, columns)]
    table.below = [line for line in body if not in_table(line, columns)]
    fields = name_columns(header, columns) if header else [Field(None)] * (len(columns) - 1)
    table.fields = fields
    for row in split_rows(inside, rules_y, columns, fields):
        cells = strip_specks(fields, cells_of(row, columns))
        if sum(len(text.replace(" ", "")) for cell in cells for text in cell) > MARGIN_MARK:
            table.rows.append(cells)
        else:  # a mark or two by the page's edge is no row
            table.below.extend(row)
    return table


def _first_ruled_line(lines: Sequence[TextLine], rules_y: Sequence[int]) -> int:
    """Without a header, the table starts at its first rule (the page header is above)."""
    if not rules_y:
        return 0
    top = min(rules_y)
    return next((i for i, line in enumerate(lines) if line.top >= top), len(lines))


def _framing(rules_x: Sequence[int], lines: Sequence[TextLine]) -> list[int]:
    """The vertical rules worth taking for column boundaries: at least two, and between
    them the table's words (a margin rule alone frames nothing)."""
    if len(rules_x) < 2 or not lines:
        return []
    words = [w for line in lines for w in line.words]
    words = [w for w in words if not is_margin_mark(w)] or words
    left, right = min(w.left for w in words), max(w.right for w in words)
    inner = [x for x in rules_x if left - 50 <= x <= right + 50]
    # The rules that close the first and last columns, however short their text.
    before = [x for x in rules_x if x < left - 50]
    after = [x for x in rules_x if x > right + 50]
    framing = [*before[-1:], *inner, *after[:1]]
    return framing if len(inner) >= 2 else []


def records(table: Table) -> list[dict[str, Any]]:
    return [make_record(table.fields, row) for row in table.rows]


def table_json(table: Table) -> dict[str, Any]:
    return {"read": table.read, "columns": [f.name for f in table.fields],
            "fields": [f.key for f in table.fields],
            "page_header": page_fields([line.text for line in table.above])}


def table_text(table: Table, words: Sequence[Word]) -> str:
    """The page's text: lines above, the header, one line per row with its cells separated
    by " | " (a cell's lines joined), lines below. Without a table, the lines in order."""
    if not table.read:
        return "\n".join(line.text for line in visual_lines(words))
    rows = [CELL_SEPARATOR.join(" ".join(cell) for cell in row).rstrip(" |")
            for row in table.rows]
    header = header_text(table.fields) if table.header else []
    return "\n".join([*(line.text for line in table.above), *header, *rows,
                      *(line.text for line in table.below)])
