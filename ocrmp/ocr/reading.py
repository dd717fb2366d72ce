"""A reader's words made into the page's result: confidence, geometry and flags.

Both readers end here, so a page is judged the same way whatever its kind.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from ocrmp.ocr import analysis
from ocrmp.ocr.engines import Word, mean_confidence
from ocrmp.ocr.pages import PageImage
from ocrmp.ocr.prepare import PreparedPage
from ocrmp.ocr.result import Geometry, PageResult
from ocrmp.ocr.settings import OcrSettings
from ocrmp.ocr.trust import Evidence, page_flags
from ocrmp.vocabulary import PageFlag


def geometry_of(prepared: PreparedPage) -> Geometry:
    found, res = prepared.orientation, prepared.resolution
    return Geometry(rotation_deg=found.angle, rotation_confidence=found.confidence,
                    rotation_method=found.method, dpi_source=res.source,
                    x_height_px=res.x_height_px, scale=res.scale)


def page_result(page: PageImage, prepared: PreparedPage, settings: OcrSettings, *,
                text: str, words: Sequence[Word], rejected: int, skew: float,
                timings: dict[str, float], rows: list[dict[str, Any]] | None = None,
                table: dict[str, Any] | None = None,
                also: Iterable[PageFlag] = (), unread: float = 0.0) -> PageResult:
    confidence = mean_confidence(words)
    evidence = Evidence(text=text, confidence=confidence, words=words,
                        glyphs=prepared.glyphs,
                        cursive_share=analysis.cursive_share(prepared.ink.mask),
                        orientation_uncertain=prepared.orientation.uncertain,
                        unread_share=unread)
    found = {*page_flags(evidence, settings.low_confidence), *also}
    flags = [flag for flag in PageFlag if flag in found]  # in the vocabulary's order
    height, width = page.image.shape[:2]
    return PageResult(
        index=page.index, text=text, confidence=confidence, width=width, height=height,
        dpi=prepared.resolution.dpi, low_confidence=PageFlag.LOW_CONFIDENCE in flags,
        flags=flags, skew_deg=skew, extracted=page.extracted, timings_ms=timings,
        rows=rows, table=table, geometry=geometry_of(prepared), rejected_words=rejected)
