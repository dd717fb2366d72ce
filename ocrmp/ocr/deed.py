"""Deeds (`acte`), and any page of running text: the steps of their reading.

Upright and scaled, borders and background removed, kept grey: on real scans tesseract's
own thresholding with its LSTM reading the grey line images beat every binarisation of
ours measured. The page is read with tesseract's automatic layout; lines read with little
confidence are read again alone, ink no word covers is read too; noise is left out; the
lines go in reading order, column by column (`layout`), paragraphs kept.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence

from ocrmp.ocr import layout, noise, prepare, reread, verdict
from ocrmp.ocr.engines import Engine
from ocrmp.ocr.geometry import Line, Word, mean_confidence
from ocrmp.ocr.page import Page
from ocrmp.ocr.recognise import Blocks, read_page
from ocrmp.ocr.settings import OcrSettings

# Tesseract's automatic layout: on real deeds and letters it keeps stamps, letterheads and
# marginal notes in blocks of their own, where one uniform block (6) reads lines through
# them; it costs a layout pass, and measured on the real corpus it earns it.
PAGE_PSM = 3
# Rotating a grey page blurs thin strokes, and tesseract's own line finding follows a
# degree or so of skew; real scans are rarely skewed more (bench/RESULTS.md).
MIN_DESKEW_DEG = 1.0
# Ink no word covers, read alone, is kept only when read this surely: on real deeds it is
# more often a scanner's edge or a stain (read "E", "Î") than a word the layout missed.
MISSED_CONFIDENCE = 88.0
# A line of words the layout missed (a short typed line, a stanza) is kept at this: the
# edges and stains the surer threshold keeps out read as single marks, not lines.
MISSED_LINE_CONFIDENCE = 70.0
TITLE_GLYPHS = 2.5  # glyph sizes: a deed's title is set in larger capitals
# A gap between two lines this much larger than the usual line pitch starts a paragraph.
PARAGRAPH_GAP = 1.3


def read_deed(page: Page, engine: Engine, settings: OcrSettings) -> None:
    prepare.prepare(page, engine, settings.dpi, MIN_DESKEW_DEG)
    prepare.remove_specks(page)
    with page.timed("engine"):
        recognise(page, engine)
    with page.timed("layout"):
        gutters = [*layout.find_gutters(page.pieces(layout.GUTTER_GLYPHS / 2), page.glyph_px),
                   *layout.engine_gutters(page.words, page.glyph_px)]
        page.lines = layout.page_lines([*page.words, *page.missed], gutters)
        page.words, page.missed = [w for line in page.lines for w in line.words], []
        page.columns = [(g.left, g.right) for g in gutters]
        page.text = paragraphs_text(page.lines)
    verdict.judge(page, settings.low_confidence)


def recognise(page: Page, engine: Engine) -> None:
    """The page read whole, weak lines read again, noise left out, missed ink read."""
    assert page.resolution is not None
    blocks = Blocks()
    again = reread.Reread(page, engine, blocks)
    words = read_page(page.image, engine, page.resolution.engine_dpi, PAGE_PSM, blocks)
    words = reread.weak_lines(words, again)
    kept = noise.keep_text(words)
    # Ink under a word left out as noise was read: only ink no word covers is read again.
    gaps = reread.uncovered(page, words, tallest=TITLE_GLYPHS)
    found = [w for piece in reread.missed(gaps, again) for w in kept_missed(piece)]
    page.words = kept.words
    page.missed = found
    page.rejected = kept.rejected
    page.unread_share = reread.unread_share(gaps, [*kept.words, *found])


def kept_missed(piece: list[Word]) -> list[Word]:
    """What is kept of the reading of one piece of ink no word covered: a line of words
    (two or more, four letters or more, mostly words of a language) read at
    `MISSED_LINE_CONFIDENCE`, which a scanner's edge or a stain never reads as; else
    only the words read surely (`MISSED_CONFIDENCE`)."""
    text = [w for w in piece if not noise.is_rule_remnant(w.text)]
    letters = sum(c.isalpha() for w in text for c in w.text)
    if (len(text) >= 2 and letters >= 4 and mean_confidence(text) >= MISSED_LINE_CONFIDENCE
            and noise.non_word_share(text) < noise.NON_WORD_SHARE):
        return text
    return [w for w in text if w.conf >= MISSED_CONFIDENCE]


def paragraphs_text(lines: Sequence[Line]) -> str:
    """Lines joined by newlines, with a blank line wherever a paragraph starts.

    A paragraph starts where tesseract says so, or where the gap above a line is clearly
    taller than the page's usual line pitch (deeds leave extra space between paragraphs).
    """
    if not lines:
        return ""
    pitches = [b.top - a.top for a, b in zip(lines, lines[1:], strict=False) if b.top > a.top]
    pitch = statistics.median(pitches) if pitches else 0.0
    parts = [lines[0].text]
    for above, line in zip(lines, lines[1:], strict=False):
        new_paragraph = line.key[:2] != above.key[:2] or (
            pitch > 0 and line.top - above.top > PARAGRAPH_GAP * pitch)
        parts.append("\n\n" if new_paragraph else "\n")
        parts.append(line.text)
    return "".join(parts)
