"""Deeds (`acte`): running text, page by page, paragraphs kept."""

from __future__ import annotations

import statistics
import time
from collections.abc import Sequence

from ocrmp.ocr import preprocess
from ocrmp.ocr.engines import Engine, Word
from ocrmp.ocr.pages import PageImage
from ocrmp.ocr.prepare import prepare_page
from ocrmp.ocr.reading import page_result
from ocrmp.ocr.recheck import (
    reread_missed,
    reread_weak_lines,
    uncovered,
    unread_share,
    without_remnants,
)
from ocrmp.ocr.result import PageResult
from ocrmp.ocr.rows import group_lines, in_page_lines
from ocrmp.ocr.settings import OcrSettings
from ocrmp.ocr.trust import keep_text

# Tesseract's automatic layout: on real deeds and letters it keeps stamps, letterheads and
# marginal notes in blocks of their own, where one uniform block (6) reads lines through
# them; it costs a layout pass, and measured on the real corpus it earns it
# (bench/RESULTS.md).
ACTE_PSM = 3
# Rotating a grey page blurs thin strokes, and tesseract's own line finding follows a
# degree or so of skew; real scans are rarely skewed more (bench/RESULTS.md).
GREY_MIN_DESKEW_DEG = 1.0
# Ink no word covers, read alone, is kept only when read this surely: on real deeds it is
# more often a scanner's edge or a stain (read "E", "Î") than a word the layout missed.
MISSED_CONFIDENCE = 88.0
TITLE_GLYPHS = 2.5  # glyph sizes: a deed's title is set in larger capitals
# A gap between two lines this much larger than the usual line pitch starts a paragraph.
PARAGRAPH_GAP = 1.3


def paragraphs_text(words: Sequence[Word]) -> str:
    """Lines joined by newlines, with a blank line wherever a paragraph starts.

    A paragraph starts where tesseract says so, or where the gap above a line is clearly
    taller than the page's usual line pitch (deeds leave extra space between paragraphs).
    """
    lines = group_lines(words)
    if not lines:
        return ""
    pitches = [b.top - a.top for a, b in zip(lines, lines[1:], strict=False) if b.top > a.top]
    pitch = statistics.median(pitches) if pitches else 0.0
    parts = [lines[0].text]
    for above, line in zip(lines, lines[1:], strict=False):
        new_paragraph = line.words[0].line_key[:2] != above.words[0].line_key[:2] or (
            pitch > 0 and line.top - above.top > PARAGRAPH_GAP * pitch)
        parts.append("\n\n" if new_paragraph else "\n")
        parts.append(line.text)
    return "".join(parts)


def read_acte_page(page: PageImage, engine: Engine, settings: OcrSettings) -> PageResult:
    """Upright and scaled, borders and background removed, kept grey: on real scans
    tesseract's own thresholding with its LSTM reading the grey line images beat every
    binarisation of ours we measured. Lonely specks go first; lines read with little
    confidence are read again alone, and ink no word covers is read too (see recheck)."""
    started = time.perf_counter()
    prepared = prepare_page(page, engine, settings.dpi)
    cleaned = preprocess.straighten(prepared.image, skew=prepared.skew_deg,
                                    min_deg=GREY_MIN_DESKEW_DEG)
    res = prepared.resolution
    image = preprocess.remove_lonely_specks(cleaned.image, res.x_height_px * res.scale)
    cleaned_at = time.perf_counter()
    dpi = res.engine_dpi
    words = reread_weak_lines(image, engine.recognize(image, psm=ACTE_PSM, dpi=dpi).words,
                              engine, dpi)
    kept = keep_text(words)
    # Ink under a word left out as noise was read: only ink no word covers is read again.
    gaps = uncovered(image, words, tallest=TITLE_GLYPHS)
    missed = [w for w in without_remnants(reread_missed(image, gaps, engine, dpi))
              if w.conf >= MISSED_CONFIDENCE]
    words = in_page_lines([*kept.words, *missed])  # missed words go where they lie
    done = time.perf_counter()
    timings = {**prepared.timings_ms, **{f"preprocess_{k}": v
                                          for k, v in cleaned.timings_ms.items()}}
    timings.update(preprocess=(cleaned_at - started) * 1000, engine=(done - cleaned_at) * 1000)
    return page_result(page, prepared, settings, text=paragraphs_text(words),
                       words=words, rejected=kept.rejected, skew=cleaned.skew_deg,
                       timings=timings, unread=unread_share(gaps, words))
