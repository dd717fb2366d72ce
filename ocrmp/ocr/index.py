"""Index ledgers: ruled tables read column by column into rows.

One recognition of the cleaned page (ruling lines removed) gives words with boxes; the
table's grid comes from the ruling lines the preprocessing found or, on a page without
usable lines, from the words themselves (columns where no word crosses, rows where words
share a baseline). Each word lands in the cell holding its centre. The header row names
the columns, so a ledger with columns missing or in another order still maps right.
"""

from __future__ import annotations

import difflib
import re
import statistics
import time
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import cv2
import numpy as np

from ocrmp.ocr import preprocess
from ocrmp.ocr.engines import Engine, Word
from ocrmp.ocr.pages import PageImage
from ocrmp.ocr.prepare import prepare_page
from ocrmp.ocr.reading import page_result
from ocrmp.ocr.result import PageResult
from ocrmp.ocr.settings import OcrSettings

INDEX_KEYS = ("date", "nature", "parties", "numero", "remarques")
CELL_SEPARATOR = " | "
INDEX_PSM = 6
CELL_PSM = 7  # a cell holds one line of text
CELL_INSET = 6  # px kept clear of a ruling line's centre: its half-width and some residue
CELL_PAD = 12  # white border around a crop: tesseract reads glyphs touching the edge badly
MIN_GLYPH_PX = 12  # at 300 dpi, smaller than a capital or digit of 8-point print
GLYPH_ELONGATION = 8  # "l" or "1" are ~6 times taller than wide; ruling slivers far more
GLYPH_FILL = 0.08  # share of its box a glyph inks: ~0.2-0.5, a thin cross of lines ~0.03
# What remains of ruling lines and stains after cleaning reads as these, around a cell.
_EDGE_JUNK = "|!:;_-‘’'“”\"°©()[]{}/\\.,~`"
# Header words, accents and case removed, that name each key.
_HEADER_WORDS = {
    "date": "date", "nature": "nature", "acte": "nature", "parties": "parties",
    "partie": "parties", "noms": "parties", "numero": "numero", "no": "numero",
    "num": "numero", "remarques": "remarques", "remarque": "remarques",
    "observations": "remarques", "mentions": "remarques",
}


@dataclass(frozen=True)
class Grid:
    """Cell boundaries: rows_y top to bottom, cols_x left to right (edges included)."""

    rows_y: Sequence[int]
    cols_x: Sequence[int]


@dataclass
class Table:
    before: list[str] = field(default_factory=list)  # lines above the table (titles)
    cells: list[list[str]] = field(default_factory=list)  # header row first, if any
    after: list[str] = field(default_factory=list)
    keys: list[str | None] = field(default_factory=list)  # per column
    has_header: bool = False

    def text(self) -> str:
        rows = [CELL_SEPARATOR.join(row).rstrip(" |") for row in self.cells]
        return "\n".join([*self.before, *rows, *self.after])

    def records(self) -> list[dict[str, str]]:
        body = self.cells[1:] if self.has_header else self.cells
        records = []
        for row in body:
            record = dict.fromkeys(INDEX_KEYS, "")
            for key, cell in zip(self.keys, row, strict=False):
                if key is not None:
                    record[key] = f"{record[key]} {cell}".strip()
            records.append(record)
        return records


# --- the grid ----------------------------------------------------------------------------

def _centre(word: Word) -> tuple[float, float]:
    return word.left + word.width / 2, word.top + word.height / 2


def _slot(value: float, bounds: Sequence[int]) -> int | None:
    """Index of the interval of `bounds` holding value, None outside."""
    for i in range(len(bounds) - 1):
        if bounds[i] <= value < bounds[i + 1]:
            return i
    return None


def cluster_lines(words: Sequence[Word]) -> list[list[Word]]:
    """Words grouped into visual lines by the height of their centre, top to bottom."""
    if not words:
        return []
    tolerance = 0.5 * statistics.median(w.height for w in words)
    lines: list[list[Word]] = []
    centre_y = 0.0
    for word in sorted(words, key=lambda w: _centre(w)[1]):
        y = _centre(word)[1]
        if lines and y - centre_y <= tolerance:
            lines[-1].append(word)
            centre_y += (y - centre_y) / len(lines[-1])
        else:
            lines.append([word])
            centre_y = y
    return [sorted(line, key=lambda w: w.left) for line in lines]


def columns_from_words(words: Sequence[Word]) -> list[int]:
    """Column boundaries where (almost) no word crosses a wide vertical gap."""
    # Marks without a letter or digit are what is left of vertical rules: not text.
    words = [w for w in words if any(c.isalnum() for c in w.text)]
    if not words:
        return []
    left, right = min(w.left for w in words), max(w.right for w in words)
    coverage = np.zeros(right - left + 1, dtype=np.int32)
    for w in words:
        coverage[w.left - left:w.right - left] += 1
    # Titles above the table may cross a gap; a real column gap is crossed by few lines.
    lines = len(cluster_lines(words))
    empty = coverage <= lines // 7
    # Cells are padded on both sides, so a column gap is wider than any word space
    # (about a third of the text height) even where a cell is full.
    min_gap = 0.7 * statistics.median(w.height for w in words)
    bounds = [left]
    start = None
    for x, is_empty in enumerate(empty):
        if is_empty and start is None:
            start = x
        elif not is_empty and start is not None:
            if x - start >= min_gap and start > 0:
                bounds.append(left + (start + x) // 2)
            start = None
    return [*bounds, right + 1]


# --- cells ------------------------------------------------------------------------------

_DIGIT_GROUPS = re.compile(r"\d+(?: \d+)+|\d{5,}")
# Columns holding registration numbers, printed in groups of three ("1 234 567").
_NUMBER_KEYS = ("numero", "remarques")


def regroup_number(text: str) -> str:
    """Digit groups re-spaced by thousands: tesseract often drops or moves the thin
    space inside a number ("1 234567" for "1 234 567")."""

    def regroup(match: re.Match[str]) -> str:
        digits = match.group().replace(" ", "")
        head = len(digits) % 3 or 3
        return " ".join([digits[:head], *(digits[i:i + 3] for i in range(head, len(digits), 3))])

    return _DIGIT_GROUPS.sub(regroup, text)


def clean_cell(text: str) -> str:
    """A cell's text without the marks that ruling remnants leave at its edges."""
    words = [w for w in text.split() if any(c.isalnum() for c in w)]
    if not words:
        return ""
    words[0] = words[0].lstrip(_EDGE_JUNK) or words[0]
    words[-1] = words[-1].rstrip(_EDGE_JUNK) or words[-1]
    return " ".join(words)


# --- header ------------------------------------------------------------------------------

def _plain(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(c for c in decomposed if c.isalnum() or c == " ")


def header_key(cell: str) -> str | None:
    """The record key a header cell names, tolerating OCR slips; None if none."""
    for word in _plain(cell).split():
        if word in _HEADER_WORDS:
            return _HEADER_WORDS[word]
        close = difflib.get_close_matches(word, list(_HEADER_WORDS), n=1, cutoff=0.75)
        if close:
            return _HEADER_WORDS[close[0]]
    return None


def _header_keys(row: Sequence[str]) -> list[str | None] | None:
    keys = [header_key(cell) for cell in row]
    named = [k for k in keys if k is not None]
    # Two columns named, no key twice: a header, not a data row that mentions a date.
    return keys if len(named) >= 2 and len(set(named)) == len(named) else None


def _positional_keys(columns: int) -> list[str | None]:
    return [*INDEX_KEYS[:columns], *([None] * max(0, columns - len(INDEX_KEYS)))]


# --- reading -----------------------------------------------------------------------------

def _line_text(words: Iterable[Word]) -> str:
    return " ".join(w.text for w in sorted(words, key=lambda w: w.left))


def _cells(line: Sequence[Word], cols_x: Sequence[int]) -> list[str] | None:
    """The line's words by column; None if the line lies outside the columns."""
    cells: list[list[Word]] = [[] for _ in range(len(cols_x) - 1)]
    for word in line:
        column = _slot(_centre(word)[0], cols_x)
        if column is None:
            return None
        cells[column].append(word)
    return [clean_cell(_line_text(cell)) for cell in cells]


def _bands(words: Sequence[Word], grid: Grid) -> tuple[list[Word], list[list[Word]], list[Word]]:
    """Words above the grid, in each row band, below it."""
    above: list[Word] = []
    below: list[Word] = []
    bands: list[list[Word]] = [[] for _ in range(len(grid.rows_y) - 1)]
    for word in words:
        y = _centre(word)[1]
        band = _slot(y, grid.rows_y)
        if band is not None:
            bands[band].append(word)
        elif y < grid.rows_y[0]:
            above.append(word)
        else:
            below.append(word)
    return above, bands, below


def _table_from_ruling(words: Sequence[Word], grid: Grid) -> Table:
    above, bands, below = _bands(words, grid)
    table = Table(before=[_line_text(line) for line in cluster_lines(above)],
                  after=[_line_text(line) for line in cluster_lines(below)])
    for band in bands:
        # Words of one cell may wrap onto two lines: read line by line inside the band.
        row = [""] * (len(grid.cols_x) - 1)
        for line in cluster_lines(band):
            for column, text in enumerate(_cells(line, grid.cols_x) or []):
                row[column] = f"{row[column]} {text}".strip()
        if any(row):
            table.cells.append(row)
    return table


def _table_from_words(words: Sequence[Word]) -> Table:
    lines = cluster_lines(words)
    cols_x = columns_from_words(words)
    cells = [_cells(line, cols_x) for line in lines]
    header = next((i for i, row in enumerate(cells) if row and _header_keys(row)), None)
    table = Table()
    for i, (line, row) in enumerate(zip(lines, cells, strict=True)):
        # Without a header, a table row is a line that fills two columns or more.
        in_table = (i >= header) if header is not None else sum(map(bool, row or [])) >= 2
        if row is None or not in_table:
            (table.after if table.cells else table.before).append(_line_text(line))
        else:
            table.cells.append(row)
    return table


def _name_columns(table: Table) -> None:
    columns = max((len(row) for row in table.cells), default=0)
    keys = _header_keys(table.cells[0]) if table.cells else None
    table.has_header = keys is not None
    table.keys = keys if keys is not None else _positional_keys(columns)
    body = table.cells[1:] if table.has_header else table.cells
    for row in body:
        for column, key in enumerate(table.keys[:len(row)]):
            if key in _NUMBER_KEYS:
                row[column] = regroup_number(row[column])


def read_table(words: Sequence[Word], grid: Grid | None) -> Table:
    """The table on a page from its words, with the ruling's grid when there is one."""
    if grid is not None and len(grid.rows_y) >= 2 and len(grid.cols_x) >= 2:
        table = _table_from_ruling(words, grid)
    else:
        table = _table_from_words(words)
    _name_columns(table)
    return table


def grid_from_ruling(ruling: object | None) -> Grid | None:
    if ruling is None:
        return None
    rows_y = sorted(int(y) for y in getattr(ruling, "rows_y", []))
    cols_x = sorted(int(x) for x in getattr(ruling, "cols_x", []))
    if len(rows_y) < 2:
        return None
    return Grid(rows_y, cols_x if len(cols_x) >= 2 else [])


def recognize_index(image: np.ndarray, grid: Grid | None, engine: Engine,
                    dpi: float | None = None) -> tuple[Table, list[Word]]:
    """The page's table: cell by cell inside a ruling, from the page's words without one."""
    if grid is None or not grid.cols_x:
        recognition = engine.recognize(image, psm=INDEX_PSM, dpi=dpi)
        if grid is None:
            return read_table(recognition.words, None), recognition.words
        # Rows ruled but columns not found: place the columns from the table's words,
        # then read cell by cell as on a fully ruled page.
        top, bottom = grid.rows_y[0], grid.rows_y[-1]
        inside = [w for w in recognition.words if top <= _centre(w)[1] < bottom]
        cols_x = columns_from_words(inside)
        if len(cols_x) < 2:
            return read_table(recognition.words, None), recognition.words
        grid = Grid(grid.rows_y, cols_x)
    return _read_ruled(image, grid, engine)


def _read_ruled(image: np.ndarray, grid: Grid, engine: Engine) -> tuple[Table, list[Word]]:
    # One recognition per cell: a whole-page pass may drop a row of a ruled table or glue
    # what is left of the ruling to the text; a cell crop avoids both.
    words: list[Word] = []
    table = Table()
    for y0, y1 in zip(grid.rows_y, grid.rows_y[1:], strict=False):
        row = []
        for x0, x1 in zip(grid.cols_x, grid.cols_x[1:], strict=False):
            cell_words = _recognize_box(image, (x0, y0, x1, y1), engine, psm=CELL_PSM)
            words.extend(cell_words)
            row.append(clean_cell(_line_text(cell_words)))
        if any(row):
            table.cells.append(row)
    height, width = image.shape
    above = _recognize_box(image, (0, 0, width, grid.rows_y[0]), engine, psm=INDEX_PSM)
    below = _recognize_box(image, (0, grid.rows_y[-1], width, height), engine, psm=INDEX_PSM)
    table.before = [_line_text(line) for line in cluster_lines(above)]
    table.after = [_line_text(line) for line in cluster_lines(below)]
    _name_columns(table)
    return table, [*words, *above, *below]


def _recognize_box(image: np.ndarray, box: tuple[int, int, int, int], engine: Engine, *,
                   psm: int) -> list[Word]:
    """Words inside the box, kept clear of its ruling; no engine call for a blank box."""
    x0, y0, x1, y1 = box
    inset = CELL_INSET
    crop = image[max(0, y0 + inset):max(0, y1 - inset), max(0, x0 + inset):max(0, x1 - inset)]
    if not has_text(crop):
        return []
    padded = cv2.copyMakeBorder(crop, CELL_PAD, CELL_PAD, CELL_PAD, CELL_PAD,
                                cv2.BORDER_CONSTANT, value=255)
    return engine.recognize(padded, psm=psm).words


def has_text(crop: np.ndarray) -> bool:
    """Whether a crop holds a glyph, not just specks or slivers of ruling line."""
    if crop.size == 0:
        return False
    ink = (crop < 128).astype(np.uint8)
    count, _, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    widths, heights = stats[1:, cv2.CC_STAT_WIDTH], stats[1:, cv2.CC_STAT_HEIGHT]
    # A glyph is tall enough and not a long thin stroke; a ruling remnant is one or the other.
    tall = heights >= MIN_GLYPH_PX
    compact = np.maximum(widths, heights) <= GLYPH_ELONGATION * np.minimum(widths, heights)
    # Crossing remnants (an L or a +) are compact overall but almost empty inside.
    solid = stats[1:, cv2.CC_STAT_AREA] >= GLYPH_FILL * widths * heights
    return bool(count > 1 and np.any(tall & compact & solid))


def read_index_page(page: PageImage, engine: Engine, settings: OcrSettings) -> PageResult:
    started = time.perf_counter()
    prepared = prepare_page(page, engine, settings.dpi)
    cleaned = preprocess.clean_page(prepared.image, "index", borders=False, flatten=False,
                                    skew=prepared.skew_deg)
    cleaned_at = time.perf_counter()
    table, words = recognize_index(cleaned.image, grid_from_ruling(cleaned.ruling), engine,
                                   prepared.resolution.engine_dpi)
    done = time.perf_counter()
    timings = {**prepared.timings_ms, **{f"preprocess_{k}": v
                                          for k, v in cleaned.timings_ms.items()}}
    timings.update(preprocess=(cleaned_at - started) * 1000, engine=(done - cleaned_at) * 1000)
    return page_result(page, prepared, settings, text=table.text(), words=words, rejected=0,
                       skew=cleaned.skew_deg, timings=timings, rows=table.records())
