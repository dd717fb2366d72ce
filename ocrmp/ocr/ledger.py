"""Index ledgers: the page read a column at a time, its words placed into the table's cells.

The page is prepared as every page is, levelled however little it is skewed (a table's
rows run across the whole page), its ruling found and painted out. Its columns are known
before anything is read: from the vertical rules, or from the gaps that the pieces of its
lines leave between columns (the page's ink analysis). Each column is then read as one
strip (tesseract's single-column layout), the page header above the table and the table's
header band as wholes: inside a strip every cell's lines are clean lines, where a
whole-page pass joins cells set at different heights into one skewed line. No text the
page shows may be lost: ink that no recognised word covers (a lone digit, a line a pass
skipped) is read again on its own and added. The words then make the table (`table`):
rows and columns from the ruling, the header and the words' alignment, every line kept;
each row becomes a record of the real formats' fields (`records`). A page without
columns is read whole; one whose table cannot be read, or whose rows read too badly to
be trusted, keeps its whole text, gives no rows and is flagged `table_unread`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ocrmp.ocr import noise, prepare, reread, verdict
from ocrmp.ocr import ruling as ruling_lines
from ocrmp.ocr.engines import Engine
from ocrmp.ocr.geometry import Box, Line, Word, group_by_line, lines_of, mean_confidence
from ocrmp.ocr.headers import page_fields
from ocrmp.ocr.page import Cell, Page
from ocrmp.ocr.recognise import Blocks, read_box, read_page
from ocrmp.ocr.records import Field, make_record, strip_specks
from ocrmp.ocr.settings import OcrSettings
from ocrmp.ocr.table import (
    CELL_SEPARATOR,
    MARGIN_MARK,
    Table,
    cell_boxes,
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
    typical_fill,
)
from ocrmp.vocabulary import PageFlag

PAGE_PSM = 3  # a page, or the part above its table: automatic layout
STRIP_PSM = 4  # one column: a single column of text of varying sizes
BAND_PSM = 6  # the header band: one block of labels
STRIP_INSET = 3  # px kept clear of a column boundary (a rule's remnant, the next cell)
MIN_DESKEW_DEG = 0.05  # a table's rows run across the page: any skew breaks them
# Glyph sizes: pieces for planning close wider spaces than a face's word space (a
# monospace number's spaces line up from row to row and must not pass for a column gap).
PLAN_GAP = 1.56
MIN_TABLE_CELLS = 3  # cells on one line: the table (its header) has started
SIDE_SHARE = 0.2
# Mean word confidence of a table's rows under which they are not given: typed rows of
# the real corpus read at 73 % or more, the rows of handwritten registers at 37-49 %.
TABLE_CONFIDENCE = 58.0
# Glyph sizes: cells are set apart by both cells' padding, wider than a word space of any
# face (a monospace comma and space: 1.6); so is a column whose rule is missing.
RULED_GAP = 2.0


def read_ledger(page: Page, engine: Engine, settings: OcrSettings) -> None:
    prepare.prepare(page, engine, settings.dpi, MIN_DESKEW_DEG)
    with page.timed("ruling"):
        ruling = ruling_lines.find_ruling_lines(page.image)
        image = ruling_lines.remove_ruling_lines(page.image, ruling)
        page.image = ruling_lines.erase_remnants(image, page.x_height_px)
    rules = (ruling.rows_y, ruling.cols_x)
    with page.timed("plan"):
        plan = plan_reading(page, *rules)
    with page.timed("engine"):
        words = recognise(page, engine, plan)
    with page.timed("table"):
        table = read_table(words, *rules, plan.columns)
        page.lines = lines_of(words)
        page.words = words
        page.columns = list(zip(table.columns, table.columns[1:], strict=False))
        page.text = table_text(table, page.lines)
    verdict.judge(page, settings.low_confidence)
    rows = records(table)
    if not trusted(table, page) or rows_joined(rows):
        table, rows = Table(above=page.lines), []  # its whole text, no rows
        page.flags.add(PageFlag.TABLE_UNREAD)
        page.text = table_text(table, page.lines)
    page.rows = rows
    page.table = table_json(table)
    page.cells = [Cell(row, table.fields[index].key, box) for row, index, box in table.cells]


def trusted(table: Table, page: Page) -> bool:
    """Whether a table's rows can be given as read: a table was found, its page is not
    handwriting, and its rows read as typed text reads (at `TABLE_CONFIDENCE` or more):
    the rows of a register the engine cannot read are noise in cells."""
    words = [w for line in table.body for w in line.words]
    return (table.read and PageFlag.HANDWRITING not in page.flags
            and mean_confidence(words) >= TABLE_CONFIDENCE)


def rows_joined(rows: Sequence[dict[str, Any]]) -> bool:
    """Whether rows or columns were read as one: a row's date holds two years, or more
    digits than a date has (its registration number with it). Every format gives a row
    one date in a column of its own; where the table's row lines or a column boundary
    were not found, the cells of several entries read, confidently, as one."""
    dates = (str(row.get("date_text") or row.get("date") or "") for row in rows)
    return any(len(_YEAR.findall(date)) > 1 or sum(c.isdigit() for c in date) > DATE_DIGITS
               for date in dates)


_YEAR = re.compile(r"(?<!\d)(?:1[6-9]|20)\d\d(?!\d)")
DATE_DIGITS = 8  # dd mm yyyy


def recognise(page: Page, engine: Engine, plan: Plan) -> list[Word]:
    """The page read as planned, doubtful figures read again, noise left out, then the
    ink no word covers read again (and judged alike)."""
    assert page.resolution is not None
    blocks = Blocks()
    again = reread.Reread(page, engine, blocks)
    read = read_planned(page, plan, engine, blocks)
    kept = noise.keep_text(_text(reread.figures(read, again)))
    gaps = reread.uncovered(page, kept.words)
    read_again = [w for piece in reread.missed(gaps, again) for w in piece]
    found = noise.keep_text(_text(reread.figures(read_again, again))).words
    page.rejected = kept.rejected
    page.unread_share = reread.unread_share(gaps, [*kept.words, *found])
    page.timings_ms["reread"] = float(len(found))
    return [*kept.words, *found]


def _text(words: Sequence[Word]) -> list[Word]:
    """Without what is left of a rule read as text: bars and dashes alone."""
    return [w for w in words if not noise.is_rule_remnant(w.text)]


# --- reading -----------------------------------------------------------------------------

@dataclass(frozen=True)
class Plan:
    """How a page is read: the part above `top` whole, then each column as a strip."""

    top: int
    columns: list[int]  # strip boundaries; none: the page is read whole
    rules_y: Sequence[int] = ()


def plan_reading(page: Page, rules_y: Sequence[int], rules_x: Sequence[int]) -> Plan:
    """Where the table starts and where its columns are, before anything is read.

    Columns: the vertical rules, else the gaps that the page's line pieces leave. The
    table starts at its first line whose pieces each keep to one column: the title and
    the page header's lines run across the columns and are read whole above it.
    """
    glyph = page.glyph_px
    pieces = page.pieces(PLAN_GAP)
    if not glyph or not pieces:
        return Plan(0, [])
    rows = [[pieces[i] for i in row] for row in group_by_line(pieces)]
    # Where the table starts: its first rule, else its first line of several pieces. Only
    # the lines from there on say where its columns are; the title and the page header
    # above run across them.
    start = min(rules_y) if rules_y else _first_wide_row(rows, glyph)
    table_rows = [row for row in rows if min(p.top for p in row) >= start - glyph]
    spans = [(p.left, p.right) for row in table_rows for p in row]
    if not spans:
        return Plan(0, [])
    if len(rules_x) < 2:
        columns = column_gaps(spans, PLAN_GAP * glyph)
    else:
        # Between ruled columns, only a gap wider than any word space is a missing rule.
        gaps = column_gaps(spans, PLAN_GAP * glyph)
        columns = refine(sorted(rules_x), gaps, glyph, spans)
    if len(columns) < 3:
        return Plan(0, [])
    if rules_y:
        return Plan(max(0, round(min(rules_y) - glyph)), columns, rules_y)
    for row in table_rows:
        held = {column(p.centre, columns) for p in row}
        crossing = any(column(p.left, columns) != column(p.right - 1, columns) for p in row)
        if len(held - {None}) >= 2 and not crossing:
            return Plan(max(0, round(min(p.top for p in row) - glyph)), columns)
    return Plan(0, [])


def _first_wide_row(rows: Sequence[Sequence[Box]], glyph: float) -> float:
    """The top of the first line of cells: pieces set further apart than words are (a
    title's words in a larger face are pieces too, a word space apart)."""
    for row in rows:
        spans = sorted((p.left, p.right) for p in row)
        apart = 1 + sum(b[0] - a[1] >= RULED_GAP * glyph
                        for a, b in zip(spans, spans[1:], strict=False))
        if apart >= MIN_TABLE_CELLS:
            return float(min(p.top for p in row))
    return 0.0


def refine(bounds: Sequence[int], gaps: Sequence[int], glyph: float,
           spans: Sequence[tuple[int, int]]) -> list[int]:
    """`bounds` with the inner `gaps` that split one of their columns in two. A gap
    counts only where text stands on both sides of it within its column, on a fifth as
    many lines at least as fill a column typically: the empty end of a column of short
    values is no column."""
    rows = typical_fill(spans)
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


def read_planned(page: Page, plan: Plan, engine: Engine, blocks: Blocks) -> list[Word]:
    """The page's words read as planned; the table's header band read whole at the end."""
    assert page.resolution is not None
    image, dpi = page.image, page.resolution.engine_dpi
    if not plan.columns:
        return read_page(image, engine, dpi, PAGE_PSM, blocks)
    height, width = image.shape[:2]
    top = max(0, plan.top)
    words = read_box(image, Box(0, 0, width, top), engine, dpi, blocks, psm=PAGE_PSM)
    for x0, x1 in zip(plan.columns, plan.columns[1:], strict=False):
        words += read_box(image, Box(x0 + STRIP_INSET, top, x1 - STRIP_INSET, height), engine,
                          dpi, blocks, psm=STRIP_PSM)
    return _header_read_whole(page, words, engine, blocks, plan)


def _header_read_whole(page: Page, words: list[Word], engine: Engine, blocks: Blocks,
                       plan: Plan) -> list[Word]:
    """Strips cut a group label spanning columns ("ENREGISTREMENT") into pieces: once
    the header is found, its band (from the table's top to its first line with a figure)
    is read again as one block and replaces them."""
    assert page.resolution is not None
    lines = lines_of(words)
    span = find_header(lines, plan.rules_y)
    if span is None:
        return words
    top = min(plan.top, lines[span[0]].top)
    first_data = next((line for line in lines[span[1]:]
                       if any(c.isdigit() for c in line.text)), None)
    bottom = first_data.top - 1 if first_data is not None else lines[span[1] - 1].bottom
    band = Box(0, top, page.image.shape[1], bottom)
    whole = [w for w in read_box(page.image, band, engine, page.resolution.engine_dpi, blocks,
                                 psm=BAND_PSM) if top <= w.box.middle <= bottom]
    if not whole:
        return words
    outside = [w for w in words if not top <= w.box.middle <= bottom]
    return [*outside, *whole]


# --- the table ---------------------------------------------------------------------------

def read_table(words: Sequence[Word], rules_y: Sequence[int], rules_x: Sequence[int],
               planned: Sequence[int] = ()) -> Table:
    """The table of a page's words; its header, rows and cells (see `table`). Columns
    come from the plan the page was read by (the rules, and the gaps its line pieces
    leave, which bridge the spaces of a monospace number where words do not), else from
    the rules alone, else from the words."""
    lines = lines_of(words)
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
            table.cells.extend((len(table.rows), index, box)
                               for index, box in cell_boxes(row, columns).items())
            table.rows.append(cells)
            table.body.extend(row)
        else:  # a mark or two by the page's edge is no row
            table.below.extend(row)
    return table


def _first_ruled_line(lines: Sequence[Line], rules_y: Sequence[int]) -> int:
    """Without a header, the table starts at its first rule (the page header is above)."""
    if not rules_y:
        return 0
    top = min(rules_y)
    return next((i for i, line in enumerate(lines) if line.top >= top), len(lines))


def _framing(rules_x: Sequence[int], lines: Sequence[Line]) -> list[int]:
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


def table_text(table: Table, lines: Sequence[Line]) -> str:
    """The page's text: lines above, the header, one line per row with its cells separated
    by " | " (a cell's lines joined), lines below. Without a table, the lines in order."""
    if not table.read:
        return "\n".join(line.text for line in lines)
    rows = [CELL_SEPARATOR.join(" ".join(cell) for cell in row).rstrip(" |")
            for row in table.rows]
    header = header_text(table.fields) if table.header else []
    return "\n".join([*(line.text for line in table.above), *header, *rows,
                      *(line.text for line in table.below)])
