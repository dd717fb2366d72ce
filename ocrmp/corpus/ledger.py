"""Index ledger pages: a page header, a ruled (or unruled) table, rows of inscriptions.

A row is as tall as its tallest cell; cells wrap (or, in the first layout, are fitted to
one line), and the truth holds each cell as it was drawn.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from itertools import pairwise
from typing import Any

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from ocrmp.corpus import marks
from ocrmp.corpus import text as words
from ocrmp.corpus.fonts import draws_all, font, typeface
from ocrmp.corpus.formats import (
    FORMATS,
    Column,
    Entry,
    Format,
    HeaderLine,
    cell_lines,
    entry,
    get_format,
    page_header,
    simple_row,
    split_parties,
)
from ocrmp.corpus.layout import abbreviate, draw_line, fit, font_px, page_shape, wrap
from ocrmp.corpus.page import LedgerPage
from ocrmp.corpus.scan import Scan, finish
from ocrmp.corpus.table import (
    Ruling,
    Table,
    block_height,
    capacity,
    cells_line,
    draw_block,
    draw_rules,
    index_table,
    line_step,
    plan_header,
    table_for,
)

INDEX_HEADER = tuple(c.label for c in get_format("simple").columns)
INDEX_KEYS = tuple(c.key for c in get_format("simple").columns)
# Cells whose text runs over lines; the others are fitted (names) or kept whole (numbers).
_WRAPPED = frozenset({"date", "nature", "remarques"})
_WHOLE = frozenset({"numero", "avis_adresse", "radiations"})
Rng = np.random.Generator


@dataclass(frozen=True)
class Style:
    """The faces a page is printed in."""

    body: ImageFont.FreeTypeFont  # entries
    caption: ImageFont.FreeTypeFont  # the printed labels of the page header
    label: ImageFont.FreeTypeFont  # column labels
    title: ImageFont.FreeTypeFont
    centred_labels: bool
    strikes: Rng | None  # typed entries strike unevenly
    preprinted: bool = False  # rows span whole printed lines; blanks underlined


def _style(fmt: Format, dpi: int, face: str, strikes: Rng | None) -> Style:
    if fmt.name == "simple":  # the first layout: labels in bold entries, 13-point title
        body = font(font_px(10, dpi), face=face)
        return Style(body, body, font(font_px(10, dpi), True, face),
                     font(font_px(13, dpi), True, face), False, strikes)
    printed = fmt.label_face or face
    labels = [c.label for c in fmt.columns] + [c.group for c in fmt.columns]
    label_face = printed if all(draws_all(printed, label) for label in labels) else "sans"
    return Style(font(font_px(fmt.points, dpi), face=face),
                 font(font_px(fmt.points, dpi), face=printed),
                 font(font_px(fmt.label_points, dpi), True, label_face),
                 font(font_px(12, dpi), True, printed), fmt.label_face is not None, strikes,
                 fmt.preprinted)


# --------------------------------------------------------------------------- rows


@dataclass(frozen=True)
class _Row:
    cells: list[list[str]]  # per column, the lines drawn
    record: dict[str, Any]
    printed: dict[str, str]
    handwritten: bool = False


def _fitted(column: Column, lines: list[str], face: ImageFont.FreeTypeFont,
            width: float) -> list[str]:
    if column.key in _WHOLE:  # a number cut short would be another number
        return lines
    if column.key in _WRAPPED:
        lines = [part for line in lines for part in wrap(line, face, width)]
    else:
        lines = [fit(line, face, width) for line in lines]
    return [abbreviate(line, face, width) for line in lines]


def _record(fmt: Format, item: Entry,
            cells: list[list[str]]) -> tuple[dict[str, Any], dict[str, str]]:
    """The truth of a typed row: each column's key and printed value; parties as a list."""
    record: dict[str, Any] = {}
    printed: dict[str, str] = {}
    keyed = list(zip(fmt.columns, cells, strict=True))
    roles = next((lines for column, lines in keyed if column.key == "qualite"), None)
    for column, lines in keyed:
        text = "\n".join(lines)
        printed[column.key] = f"{printed[column.key]}\n{text}" if column.key in printed else text
        if column.key != "parties":
            record[column.key] = text
            continue
        names = record.setdefault("parties", [])
        for line in lines:
            names.append({"name": line, "role": roles[len(names)] if roles else column.role})
    if " ".join(record.get("date", "").split("\n")) == item.date.text and item.date.iso:
        record["date_iso"] = item.date.iso
    if "nature" in record and item.nature != item.canonical:
        record["nature_canonical"] = item.canonical
    return record, printed


def _typed_row(fmt: Format, item: Entry, table: Table, face: ImageFont.FreeTypeFont) -> _Row:
    cells = [_fitted(column, cell_lines(item, column), face, x1 - x0 - 2 * table.pad)
             for column, (x0, x1) in zip(fmt.columns, pairwise(table.cols_x), strict=True)]
    record, printed = _record(fmt, item, cells)
    return _Row(cells, record, printed)


def _handwritten_row(fmt: Format, rng: Rng) -> _Row:
    """A row whose cells are handwriting: how many lines each, nothing legible."""
    cells = [["~"] * (int(rng.integers(1, 4)) if c.key == "parties" else 1) for c in fmt.columns]
    record: dict[str, Any] = {c.key: None for c in fmt.columns}
    record["handwritten"] = True
    return _Row(cells, record, {c.key: "" for c in fmt.columns}, handwritten=True)


def _simple_row(rng: Rng, table: Table, face: ImageFont.FreeTypeFont) -> _Row:
    row = simple_row(rng)
    cells = [[fit(row[key], face, x1 - x0 - 2 * table.pad)]
             for key, (x0, x1) in zip(INDEX_KEYS, pairwise(table.cols_x), strict=True)]
    printed = {key: lines[0] for key, lines in zip(INDEX_KEYS, cells, strict=True)}
    record: dict[str, Any] = dict(printed)
    record["parties"] = [{"name": n, "role": None} for n in split_parties(printed["parties"])]
    record["date_iso"] = printed["date"]
    return _Row(cells, record, printed)


def _row_height(row: _Row, table: Table, style: Style) -> int:
    height = block_height(max([1, *map(len, row.cells)]), table.row_px, line_step(style.body))
    if style.preprinted:  # an entry fills as many of the form's printed lines as it needs
        return -(-height // table.row_px) * table.row_px
    return height


def _make_rows(fmt: Format, rng: Rng, count: int | None, room: int, table: Table,
               style: Style, slips: bool) -> list[_Row]:
    """`count` rows, or as many as fill a random share of the room; refused if they overflow."""
    budget = room if count is not None else round(room * rng.uniform(0.5, 1.0))
    made: list[_Row] = []
    used = 0
    while count is None or len(made) < count:
        row = (_handwritten_row(fmt, rng) if fmt.handwritten
               else _typed_row(fmt, entry(rng, fmt, slips), table, style.body))
        height = _row_height(row, table, style)
        if used + height > budget:
            if count is not None:
                raise ValueError(f"a {fmt.name} ledger page at this size holds {len(made)} "
                                 f"rows, not {count}")
            break
        made.append(row)
        used += height
    return made


def _simple_rows(rng: Rng, count: int, table: Table, style: Style, most: int) -> list[_Row]:
    if not 0 <= count <= most:
        raise ValueError(f"an index page at this size holds 0 to {most} rows, not {count}")
    return [_simple_row(rng, table, style.body) for _ in range(count)]


# --------------------------------------------------------------------------- page


@dataclass
class _Sheet:
    """A page being drawn: its canvas, its handwriting layer, its text lines so far."""

    canvas: Image.Image
    hand: np.ndarray
    lines: list[str]

    @property
    def draw(self) -> ImageDraw.ImageDraw:
        return ImageDraw.Draw(self.canvas)


def _header_line(sheet: _Sheet, line: HeaderLine, style: Style, x: float, y: int,
                 hand: Rng | None, dpi: int) -> dict[str, str]:
    """One line above the table: label printed, value typed (or handwritten)."""
    face = style.title if line.title else style.caption
    same = style.caption is style.body and style.strikes is None
    if hand is None and (same or not line.label or not line.value):
        draw_line(sheet.draw, (x, y), line.text, face, 0, style.strikes if same else None)
        sheet.lines.append(line.text)
        return dict(line.fields)
    draw_line(sheet.draw, (x, y), line.label, face, 0, None)
    value_x = x + face.getlength(f"{line.label} ")
    y += face.getmetrics()[0] - style.body.getmetrics()[0]  # one baseline for both faces
    if hand is not None:  # the register's clerk wrote the value in
        size = int(face.size)
        marks.scribble(sheet.hand, hand, (round(value_x), y - size, round(value_x + 2 * dpi),
                                          y + size), dpi)
        sheet.lines.append(line.label)
        return {}
    draw_line(sheet.draw, (value_x, y), line.value, style.body, 0, style.strikes)
    if style.preprinted:  # the form's blank, printed under where the value was typed
        under = y + round(1.1 * style.body.size)
        end = max(value_x + 2.5 * dpi, value_x + style.body.getlength(line.value) + dpi / 4)
        sheet.draw.line((value_x, under, end, under), fill=60, width=max(1, dpi // 150))
    sheet.lines.append(line.text)
    return dict(line.fields)


def _page_header(sheet: _Sheet, fmt: Format, header: list[HeaderLine], style: Style,
                 left: int, rng: Rng, dpi: int) -> tuple[int, dict[str, str]]:
    """Draw the lines above the table; returns where they end and the fields printed."""
    y, width = round(0.6 * dpi), sheet.canvas.size[0]
    fields: dict[str, str] = {}
    for line in header:
        face = style.title if line.title else style.caption
        centred = line.title and fmt.name != "simple"
        x = (width - face.getlength(line.text)) / 2 if centred else left
        hand = rng if fmt.handwritten and line.fields else None
        fields.update(_header_line(sheet, line, style, x, y, hand, dpi))
        y += 2 * int(face.size) if line.title else round(1.6 * face.size)
    return y, fields


def _draw_rows(sheet: _Sheet, rows: list[_Row], table: Table, ys: list[int], style: Style,
               rng: Rng, dpi: int, typist: Rng | None = None) -> None:
    """The rows' cells; with `typist`, each typed row a little off the form's lines (the
    sheet was lined up in the typewriter by eye)."""
    pad = table.pad
    for row, (y0, y1) in zip(rows, pairwise(ys), strict=True):
        if typist is not None and not row.handwritten:
            shift = int(typist.integers(-table.row_px // 8, table.row_px // 8 + 1))
            y0, y1 = y0 + shift, y1 + shift
        for lines, (x0, x1) in zip(row.cells, pairwise(table.cols_x), strict=True):
            if row.handwritten:
                height = max(dpi * 0.05, (y1 - y0) / (2.8 * len(lines)))
                marks.scribble(sheet.hand, rng, (x0 + pad, y0, x1 - pad, y1 - pad), dpi, height)
            elif lines:
                draw_block(sheet.draw, lines, (x0, y0, x1, y1), style.body, pad, False,
                           style.strikes)
        if not row.handwritten:
            sheet.lines.append(cells_line([" ".join(lines) for lines in row.cells]))


def _simple_header(rng: Rng, continued: bool, extra: Rng) -> list[HeaderLine]:
    place, lot = words.pick(rng, words.PLACES), words.registry_number(rng)
    lines = [HeaderLine("INDEX DES IMMEUBLES", title=True),
             HeaderLine("Circonscription foncière de", f"{place}, lot {lot}",
                        {"circonscription": place, "lot": lot})]
    if continued:
        note = words.continuation(extra)
        lines.append(HeaderLine("", note, {"continuation": note}))
    return lines


@dataclass(frozen=True)
class _Layout:
    """What a ledger page needs besides its seed: size, style, rules, options."""

    fmt: Format
    dpi: int
    shape: tuple[int, int]
    style: Style
    ruling: Ruling
    continued: bool
    slips: bool


@dataclass(frozen=True)
class _Drawn:
    image: np.ndarray
    lines: list[str]
    header: dict[str, str]
    rows: list[_Row]
    box: tuple[int, int, int, int]


def _printed_rules(ys: list[int], table: Table, style: Style, height: int,
                   dpi: int) -> list[int]:
    """The row rules drawn: on a printed form, on down to the foot of the sheet."""
    if not style.preprinted:
        return ys
    ruled = list(ys)
    while ruled[-1] + table.row_px <= height - round(0.7 * dpi):
        ruled.append(ruled[-1] + table.row_px)
    return ruled


def _render(seed: int, count: int | None, lay: _Layout) -> _Drawn:
    fmt, dpi, style = lay.fmt, lay.dpi, lay.style
    simple = fmt.name == "simple"
    rng = np.random.default_rng([seed, 3] if simple else [seed, 3, list(FORMATS).index(fmt.name)])
    height, width = lay.shape
    sheet = _Sheet(Image.new("L", (width, height), 255), np.full(lay.shape, 255, np.uint8), [])
    extra = np.random.default_rng([seed, 12])
    table = table_for(fmt, dpi, width, round(1.3 * dpi))
    asked, most = count, capacity(table, height, dpi)
    drawn_count = 0
    if simple and count is None:  # drawn first, as the first layout always did
        drawn_count = int(rng.integers(most // 2, most + 1))
    header = _simple_header(rng, lay.continued, extra) if simple else page_header(
        fmt, rng, lay.continued)
    end, fields = _page_header(sheet, fmt, header, style, table.left, extra, dpi)
    table = replace(table, top=max(table.top, end))
    planned = plan_header(fmt, table, style.label, style.centred_labels)
    if simple:
        room = capacity(table, height, dpi)  # less when a continuation note moved the table
        wanted = asked if asked is not None else min(drawn_count, room)
        rows = _simple_rows(rng, wanted, table, style, room)
    else:
        room = height - round(0.7 * dpi) - planned.bottom
        rows = _make_rows(fmt, rng, count, room, table, style, lay.slips)
    ys = [table.top, planned.bottom]
    for row in rows:
        ys.append(ys[-1] + _row_height(row, table, style))
    broken = np.random.default_rng([seed, 10]) if lay.ruling.broken else None
    draw_rules(sheet.draw, fmt, table, planned, _printed_rules(ys, table, style, height, dpi),
               lay.ruling, dpi, broken)
    for block in planned.blocks:
        draw_block(sheet.draw, block.lines, block.box, style.label, table.pad, block.centred)
    sheet.lines += planned.text
    typist = np.random.default_rng([seed, 14]) if style.preprinted else None
    _draw_rows(sheet, rows, table, ys[1:], style, np.random.default_rng([seed, 11]), dpi,
               typist)
    image = np.minimum(np.asarray(sheet.canvas, dtype=np.uint8), sheet.hand)
    return _Drawn(image, sheet.lines, fields, rows, (table.left, table.top, table.cols_x[-1],
                                                     ys[-1]))


def ledger_page(
    seed: int,
    *,
    format: str = "simple",  # noqa: A002 - the word the registry and the truth use
    rows: int | None = None,
    degrade: bool = False,
    dpi: int = 300,
    face: str | None = None,
    rules: str = "full",
    rule_weight: str = "normal",
    broken_rules: bool = False,
    page_size: str = "letter",
    landscape: bool | None = None,
    continued: bool = False,
    nature_slips: bool = False,
    written: bool = False,
    **conditions: Any,
) -> LedgerPage:
    """An index page of `format` (see `formats.FORMATS`) with its whole ground truth.

    `rows` entries (a seeded number filling half the page or more when None), in `face`
    (the format's usual face when None); `rules` full, horizontal (no vertical rules),
    vertical or none, `rule_weight` hairline, normal or bold, `broken_rules` with gaps
    and missing rules; `landscape` (the format's habit when None); `continued` prints a
    continuation note; `nature_slips` prints some natures misread, each with its
    `nature_canonical`; `written` has a printed form's entries written in by hand.
    `conditions` are the fields of `Scan`.
    """
    fmt = get_format(format)
    if written:
        if fmt.label_face is None:
            raise ValueError(f"written entries go on a printed form; {format!r} is a report")
        fmt = replace(fmt, handwritten=True)
    chosen = face or fmt.faces[0]
    scan = Scan(dpi=dpi, degrade=degrade, **conditions)
    strikes = np.random.default_rng([seed, 9]) if typeface(chosen).typewriter else None
    flat = fmt.landscape if landscape is None else landscape
    lay = _Layout(fmt, dpi, page_shape(dpi, page_size, flat), _style(fmt, dpi, chosen, strikes),
                  Ruling(rules, rule_weight, broken_rules), continued, nature_slips)
    drawn = _render(seed, rows, lay)
    layers, added = marks.decorate(drawn.image.shape, np.random.default_rng([seed, 5]), dpi,
                                   drawn.box, scan.stamps, scan.handwriting)
    image, skew = finish(drawn.image, scan, layers, [seed, 4])
    options = {**scan.options(), "format": format, "rows": rows, "face": chosen,
               "rules": rules, "rule_weight": rule_weight, "broken_rules": broken_rules,
               "page_size": page_size, "landscape": flat, "continued": continued,
               "nature_slips": nature_slips, "written": written}
    return LedgerPage(
        image=image, text="\n".join(drawn.lines), kind="index",
        rows=[row.record for row in drawn.rows], skew_deg=skew, dpi=dpi,
        orientation_deg=scan.orientation_deg, handwritten=fmt.handwritten, marks=tuple(added),
        options=options, format=fmt.name, columns=tuple(c.name for c in fmt.columns),
        header=drawn.header, cells=[row.printed for row in drawn.rows])


def index_page(
    seed: int, *, degrade: bool = False, dpi: int = 300, rows: int | None = None,
    **options: Any,
) -> LedgerPage:
    """The first layout's page, its rows as printed strings (parties one string).

    The same page as `ledger_page(seed, format="simple", ...)`; `rows` here hold the cells
    as the index reader returns them today. `options` are those of `ledger_page`.
    """
    page = ledger_page(seed, degrade=degrade, dpi=dpi, rows=rows, **options)
    return replace(page, rows=[dict(cells) for cells in page.cells])


__all__ = ["INDEX_HEADER", "INDEX_KEYS", "index_page", "index_table", "ledger_page"]
