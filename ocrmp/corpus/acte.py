"""Deed pages (`acte`): a title, then a notary's paragraphs, in one typeface; or, with
`layout`, the other pages of a deed's file (`ocrmp.corpus.documents`)."""

from __future__ import annotations

from typing import Any

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from ocrmp.corpus import documents, marks
from ocrmp.corpus import text as words
from ocrmp.corpus.fonts import font, typeface
from ocrmp.corpus.layout import draw_line, font_px, page_shape, wrap
from ocrmp.corpus.page import GeneratedPage
from ocrmp.corpus.scan import Scan, finish

BODY_POINTS, TITLE_POINTS, LINE_STEP = 11.5, 14, 1.45
# Every layout of a deed-kind page; "deed" is the notary's deed itself.
LAYOUTS = ("deed", "letter", "verse", "columns-2", "columns-3", "report")


def _deed_lines(
    rng: np.random.Generator, body: ImageFont.FreeTypeFont, width: float, count: int
) -> list[list[str]]:
    """Paragraphs of wrapped lines, `count` lines in all (the last paragraph cut short)."""
    fields = words.deed_fields(rng)
    paragraphs: list[list[str]] = []
    total = 0
    while total < count:
        for template in words.DEED_PARAGRAPHS:
            wrapped = wrap(template.format(**fields), body, width)[: count - total]
            if not wrapped:
                break
            paragraphs.append(wrapped)
            total += len(wrapped)
        fields = words.deed_fields(rng)  # a long page continues with a second deed
    return paragraphs


def acte_capacity(dpi: int, size: str = "letter", landscape: bool = False) -> int:
    """How many body lines fit on a deed page."""
    height = page_shape(dpi, size, landscape)[0]
    body_px = font_px(BODY_POINTS, dpi)
    usable = height - 2 * dpi - 3 * body_px  # 1-inch margins, title and its gap
    return int(usable // (LINE_STEP * body_px)) - 8  # paragraph gaps


def _render(
    rng: np.random.Generator, dpi: int, lines: int | None, face: str, size: str,
    landscape: bool, strikes: np.random.Generator | None,
) -> tuple[np.ndarray, str, tuple[int, int, int, int]]:
    """The upright grey page, its text, and the box the text fills."""
    height, width = page_shape(dpi, size, landscape)
    capacity = acte_capacity(dpi, size, landscape)
    count = int(rng.integers(capacity - 10, capacity + 1)) if lines is None else lines
    if not 1 <= count <= capacity:
        raise ValueError(f"an acte page at {dpi} dpi holds 1 to {capacity} lines, not {count}")
    body = font(font_px(BODY_POINTS, dpi), face=face)
    title_font = font(font_px(TITLE_POINTS, dpi), bold=True, face=face)
    margin = dpi
    title = words.pick(rng, words.DEED_TITLES)
    paragraphs = _deed_lines(rng, body, width - 2 * margin, count)

    canvas = Image.new("L", (width, height), 255)
    draw = ImageDraw.Draw(canvas)
    title_x = (width - title_font.getlength(title)) / 2
    draw_line(draw, (title_x, margin), title, title_font, 0, strikes)
    y = margin + 3 * int(body.size)
    step = round(LINE_STEP * body.size)
    for paragraph in paragraphs:
        for line in paragraph:
            draw_line(draw, (margin, y), line, body, 0, strikes)
            y += step
        y += step // 2
    truth = "\n".join([title, *(line for paragraph in paragraphs for line in paragraph)])
    return np.asarray(canvas, dtype=np.uint8).copy(), truth, (margin, margin, width - margin, y)


def _other(layout: str, lines: int | None, sheet: documents.Sheet) -> documents.Drawn:
    if layout not in LAYOUTS:
        raise ValueError(f"unknown layout {layout!r}; expected one of {', '.join(LAYOUTS)}")
    if lines is not None:
        raise ValueError(f"lines is the deed's line count; a {layout} page has none")
    if layout.startswith("columns-"):
        return documents.columns(sheet, int(layout.removeprefix("columns-")))
    draw = {"letter": documents.letter, "verse": documents.verse, "report": documents.report}
    return draw[layout](sheet)


def acte_page(
    seed: int,
    *,
    degrade: bool = False,
    dpi: int = 300,
    lines: int | None = None,
    face: str = "serif",
    page_size: str = "letter",
    landscape: bool = False,
    layout: str = "deed",
    **conditions: Any,
) -> GeneratedPage:
    """A deed page: title line, then `lines` body lines (seeded count when None).

    `layout` (one of LAYOUTS) draws another page of the file instead: a letter, a poem,
    two or three columns, a report with a margin of dates; `lines` is the deed's only.

    `face` is a typeface of `ocrmp.corpus.fonts.FACES` (typewriter faces strike unevenly);
    `conditions` are the fields of `Scan`: orientation_deg, skew_deg, colour, paper, ink,
    stamps, handwriting, fax.
    """
    scan = Scan(dpi=dpi, degrade=degrade, **conditions)
    rng = np.random.default_rng([seed, 1])
    strikes = np.random.default_rng([seed, 9]) if typeface(face).typewriter else None
    if layout == "deed":
        drawing, text, box = _render(rng, dpi, lines, face, page_size, landscape, strikes)
    else:
        drawing, text, box = _other(layout, lines, documents.Sheet(
            rng, dpi, face, page_size, landscape, strikes))
    layers, drawn = marks.decorate(drawing.shape, np.random.default_rng([seed, 5]), dpi, box,
                                   scan.stamps, scan.handwriting)
    image, skew = finish(drawing, scan, layers, [seed, 2])
    options = {**scan.options(), "lines": lines, "face": face, "page_size": page_size,
               "landscape": landscape, "layout": layout}
    return GeneratedPage(image=image, text=text, kind="acte", rows=[], skew_deg=skew, dpi=dpi,
                         orientation_deg=scan.orientation_deg, marks=tuple(drawn),
                         options=options)
