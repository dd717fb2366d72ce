"""Done rows whose results are written by the OCR pipeline's own result classes, with the
pages and reasons a test chooses, so the readers of flags read what the pipeline writes."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from psycopg.types.json import Jsonb

from ocrmp.ocr.pipeline import OcrResult
from ocrmp.ocr.result import PageResult
from ocrmp.vocabulary import PageFlag
from tests.integration.test_diagnose import insert


def ocr_result(kind: str, *pages: Sequence[PageFlag]) -> dict[str, Any]:
    """The result of a document with one page per argument, each flagged for its reasons."""
    return OcrResult(kind, "tesserocr", [
        PageResult(index=i, text=f"page {i + 1}", confidence=40.0 if flags else 90.0,
                   width=2550, height=3300, dpi=300.0, low_confidence=bool(flags),
                   flags=list(flags))
        for i, flags in enumerate(pages)]).to_json()


def insert_done(dsn: str, kind: str, result: dict[str, Any] | None, *,
                minutes_ago: int = 0, **columns: Any) -> str:
    """One row with this result, done (5) `minutes_ago` unless columns say otherwise."""
    values = {"status_id": 5, "ocr_result": Jsonb(result) if result is not None else None,
              "ocr_completed_at": ("sql", f"now() - interval '{minutes_ago} minutes'"),
              **columns}
    [job_id] = insert(dsn, document_source=kind, **values)
    return job_id
