"""What `ocrmp job` shows of one job: its row, its attempts' history, its pages' flags and
the first lines of its text. Gathering returns plain data; rendering is separate."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import ocrmp.ocr.errors  # noqa: F401 - registers the OCR's error kinds for error_kind()
from ocrmp.errors import OcrmpError, error_kind
from ocrmp.store import JobStore
from ocrmp.vocabulary import Status

TEXT_LINES = 10  # of the text, in the summary (--text prints it whole)


class NoSuchJob(OcrmpError):
    """No job is named so."""


class AmbiguousJob(OcrmpError):
    """Several jobs have this document number."""


@dataclass(frozen=True)
class JobView:
    row: dict[str, Any]
    attempts: list[dict[str, Any]]

    @property
    def text(self) -> str:
        return self.row.get("file_content") or ""

    def page_flags(self) -> list[tuple[int, list[str]]]:
        """(page, its flags) for every flagged page of the result."""
        result = self.row.get("ocr_result")
        pages = result.get("page_results") if isinstance(result, dict) else None
        flagged = []
        for n, page in enumerate(pages if isinstance(pages, list) else [], start=1):
            flags = page.get("flags") if isinstance(page, dict) else None
            if isinstance(flags, list) and flags:
                flagged.append((n, [str(flag) for flag in flags]))
        return flagged

    def to_json(self) -> dict[str, Any]:
        row = {key: _plain(value) for key, value in self.row.items()}
        row["status"] = Status.label_of(self.row["status_id"])
        row["error_kind"] = error_kind(self.row.get("ocr_error"))
        return {"job": row, "attempts": [{key: _plain(value) for key, value in attempt.items()}
                                         for attempt in self.attempts]}


def resolve(store: JobStore, key: str) -> str:
    """The id of the one job `key` names (an id or a document number)."""
    ids = store.find_jobs(key)
    if not ids:
        raise NoSuchJob(f"no job {key!r} in {store.where} (give a job id or a document number)")
    if len(ids) > 1:
        raise AmbiguousJob(f"document number {key!r} names {len(ids)} jobs in {store.env}: "
                           f"{', '.join(ids)}; give one of these ids")
    return ids[0]


def gather(store: JobStore, key: str) -> JobView:
    job_id = resolve(store, key)
    row = store.get(job_id)
    if row is None:  # deleted in between
        raise NoSuchJob(f"job {job_id} is gone from {store.where}")
    return JobView({**row, "id": str(row["id"])}, store.attempts(job_id))


def render(view: JobView) -> str:
    row = view.row
    status = Status.of(row["status_id"])
    lines = [f"job {row['id']}  {row['document_number'] or '-'}  {row['document_source']}",
             f"  status    {row['status_id']} ({status.words if status else 'unknown'})",
             f"  attempts  {row['ocr_attempts']} of {row['ocr_max_attempts']}",
             f"  worker    {row['ocr_worker_id'] or '-'}",
             f"  document  {row['supabase_path'] or '-'}"]
    for label, key in (("started", "ocr_started_at"), ("completed", "ocr_completed_at"),
                       ("lease", "ocr_lease_expires_at"), ("next try", "ocr_next_attempt_at")):
        if row.get(key):
            lines.append(f"  {label:<9} {_when(row[key])}")
    if row.get("ocr_error"):
        lines.append(f"  error     {error_kind(row['ocr_error']) or '-'}: {row['ocr_error']}")
    lines += _history(view.attempts) + _flags(view) + _text(view)
    return "\n".join(lines)


def _history(attempts: list[dict[str, Any]]) -> list[str]:
    if not attempts:
        return ["history   none recorded"]
    lines = ["history"]
    for attempt in attempts:
        outcome = attempt["outcome"] or "running"
        kind = f" {attempt['error_kind']}" if attempt["error_kind"] else ""
        why = f": {attempt['error_message']}" if attempt["error_message"] else ""
        ended = _when(attempt["ended_at"]) if attempt["ended_at"] else "…"
        lines.append(f"  #{attempt['attempt']}  {_when(attempt['started_at'])} → {ended}  "
                     f"{attempt['worker']}  {outcome}{kind}{why}")
    return lines


def _flags(view: JobView) -> list[str]:
    flagged = view.page_flags()
    return ["flags"] + [f"  page {page}: {', '.join(flags)}" for page, flags in flagged] \
        if flagged else []


def _text(view: JobView) -> list[str]:
    if not view.text:
        return []
    lines = view.text.splitlines()
    shown = [f"  {line}" for line in lines[:TEXT_LINES]]
    more = [f"  … {len(lines) - TEXT_LINES} more lines (--text)"] if len(lines) > TEXT_LINES \
        else []
    return ["text", *shown, *more]


def _when(value: datetime) -> str:
    return value.isoformat(sep=" ", timespec="seconds")


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict | list | str | int | float | bool) or value is None:
        return value
    return json.loads(json.dumps(value, default=str))
