"""The demo's results: each document's database row beside the sample's ground truth
(character error rate, the engine's confidence, time), as a table and a summary line."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ocrmp.demo.samples import Sample
from ocrmp.vocabulary import Status


@dataclass(frozen=True)
class Result:
    document_number: str
    kind: str
    status: str
    pages: int | None = None
    confidence: float | None = None
    seconds: float | None = None
    cer: float | None = None
    first_line: str = ""
    error: str | None = None

    @property
    def done(self) -> bool:
        return self.status == "done"


def result_of(row: dict[str, Any] | None, sample: Sample) -> Result:
    """One table row from the job's database row and the sample's ground truth."""
    from ocrmp.corpus import cer

    if row is None:
        return Result(sample.document_number, sample.kind, "missing",
                      error="the job disappeared from the queue")
    status = Status.label_of(row["status_id"])
    if row["status_id"] != Status.DONE:
        return Result(sample.document_number, sample.kind, status,
                      error=row.get("ocr_error") or "not processed")
    text = row.get("file_content") or ""
    return Result(sample.document_number, sample.kind, status, pages=row.get("ocr_page_count"),
                  confidence=_confidence(row.get("ocr_result")),
                  seconds=_seconds(row.get("ocr_started_at"), row.get("ocr_completed_at")),
                  cer=cer(sample.truth, text), first_line=_first_line(text))


def _confidence(result: Any) -> float | None:
    # Written by the OCR pipeline; a fake engine or an older result may lack it.
    value = result.get("mean_confidence") if isinstance(result, dict) else None
    return float(value) if isinstance(value, int | float) else None


def _seconds(started: Any, completed: Any) -> float | None:
    if started is None or completed is None:
        return None
    return float((completed - started).total_seconds())


def _first_line(text: str) -> str:
    return next((line.strip() for line in text.splitlines() if line.strip()), "")


def _cell(value: float | int | None, spec: str) -> str:
    return "-" if value is None else format(value, spec)


def render_results(results: Sequence[Result]) -> str:
    lines = [f"{'document':<11}{'kind':<7}{'pages':>5}{'conf':>7}{'secs':>7}  "
             f"{'status':<8}{'CER':>7}  first line"]
    for r in results:
        cer = "-" if r.cer is None else f"{r.cer:.1%}"
        lines.append(f"{r.document_number:<11}{r.kind:<7}{_cell(r.pages, 'd'):>5}"
                     f"{_cell(r.confidence, '.1f'):>7}{_cell(r.seconds, '.1f'):>7}  "
                     f"{r.status:<8}{cer:>7}  {r.first_line[:48]}")
    return "\n".join(lines)


def summary(results: Sequence[Result], elapsed_s: float) -> str:
    done = [r for r in results if r.done]
    pages = sum(r.pages or 0 for r in done)
    line = f"{len(done)} of {len(results)} documents done in {elapsed_s:.0f}s"
    if done:
        mean_cer = sum(r.cer or 0.0 for r in done) / len(done)
        rate = pages * 60 / elapsed_s if elapsed_s > 0 else 0.0
        line += f" · {pages} pages ({rate:.1f} pages/min) · mean CER {mean_cer:.1%}"
    return line
