"""Deeds (`acte`): running text, page by page, paragraphs kept."""

from __future__ import annotations

import statistics
import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ocrmp.ocr import preprocess
from ocrmp.ocr.engines import Engine, Word, mean_confidence
from ocrmp.ocr.pages import PageImage, PageResult
from ocrmp.ocr.settings import OcrSettings
from ocrmp.vocabulary import PageFlag

# One uniform block of text: what a deed page is. Auto layout (3) splits margins
# and stamps into blocks and costs a layout pass for nothing.
ACTE_PSM = 6
# A gap between two lines this much larger than the usual line pitch starts a paragraph.
PARAGRAPH_GAP = 1.3


@dataclass(frozen=True)
class Line:
    words: tuple[Word, ...]

    @property
    def top(self) -> int:
        return min(w.top for w in self.words)

    @property
    def text(self) -> str:
        return " ".join(w.text for w in self.words)


def group_lines(words: Sequence[Word]) -> list[Line]:
    """Words to lines, in tesseract's reading order."""
    lines: list[list[Word]] = []
    for word in words:
        if lines and lines[-1][-1].line_key == word.line_key:
            lines[-1].append(word)
        else:
            lines.append([word])
    return [Line(tuple(line)) for line in lines]


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


def recognize_acte(image: np.ndarray, engine: Engine) -> tuple[str, float]:
    """Text and mean word confidence of one cleaned deed page."""
    recognition = engine.recognize(image, psm=ACTE_PSM)
    return paragraphs_text(recognition.words), mean_confidence(recognition.words)


def is_low_confidence(text: str, confidence: float, settings: OcrSettings) -> bool:
    # A blank page (a verso, a separator sheet) has no words to doubt: not flagged.
    return bool(text.strip()) and confidence < settings.low_confidence


def read_acte_page(page: PageImage, engine: Engine, settings: OcrSettings) -> PageResult:
    started = time.perf_counter()
    cleaned = preprocess.clean_page(page.image, "acte")
    cleaned_at = time.perf_counter()
    text, confidence = recognize_acte(cleaned.image, engine)
    done = time.perf_counter()
    timings = {f"preprocess_{k}": v for k, v in cleaned.timings_ms.items()}
    timings.update(preprocess=(cleaned_at - started) * 1000, engine=(done - cleaned_at) * 1000)
    height, width = page.image.shape
    return PageResult(
        index=page.index, text=text, confidence=confidence, width=width, height=height,
        dpi=page.dpi, low_confidence=(low := is_low_confidence(text, confidence, settings)),
        flags=[PageFlag.LOW_CONFIDENCE] if low else [],
        skew_deg=cleaned.skew_deg, extracted=page.extracted, timings_ms=timings,
    )
