"""What `ocrmp review` shows: done documents with pages flagged for a person to check,
newest first, each with its flagged pages and their reasons. Listing returns plain data;
rendering is separate."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ocrmp.store import JobStore


@dataclass(frozen=True)
class FlaggedPage:
    page: int | str  # 1-based; a stored value that is not a number is shown as it is
    reasons: tuple[str, ...]

    def describe(self) -> str:
        return f"page {self.page}: {', '.join(self.reasons)}" if self.reasons \
            else f"page {self.page}"


@dataclass(frozen=True)
class FlaggedDocument:
    id: str
    document_number: str
    kind: str
    completed_at: datetime | None
    pages: tuple[FlaggedPage, ...]

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "document_number": self.document_number, "kind": self.kind,
                "completed_at": self.completed_at.isoformat() if self.completed_at else None,
                "pages": [{"page": page.page, "flags": list(page.reasons)}
                          for page in self.pages]}


def flagged_page(entry: Any) -> FlaggedPage:
    """A page of the `flagged_documents` query; results of any shape give a page."""
    entry = entry if isinstance(entry, dict) else {}
    page = entry.get("page")
    reasons = entry.get("flags")
    return FlaggedPage(page if isinstance(page, int) else str(page),
                       tuple(str(reason) for reason in reasons)
                       if isinstance(reasons, list) else ())


def flagged_document(row: dict[str, Any]) -> FlaggedDocument:
    pages = row["pages"] if isinstance(row["pages"], list) else []
    return FlaggedDocument(id=row["id"], document_number=row["document_number"] or "",
                           kind=row["kind"] or "", completed_at=row["ocr_completed_at"],
                           pages=tuple(flagged_page(entry) for entry in pages))


def list_flagged(store: JobStore, *, kind: str | None, flags: Sequence[str],
                 limit: int) -> list[FlaggedDocument]:
    """The newest `limit` done documents with flagged pages (of `kind`, with any of `flags`)."""
    return [flagged_document(row)
            for row in store.flagged_documents(kind=kind, flags=flags, limit=limit)]


def render_document(document: FlaggedDocument) -> str:
    done = document.completed_at.isoformat(sep=" ", timespec="seconds") \
        if document.completed_at else "-"
    pages = "; ".join(page.describe() for page in document.pages)
    return (f"{document.id}  {document.document_number or '-'}  {document.kind or '-'}  "
            f"{done}  {pages}")


def summary(count: int, env: str, *, kind: str | None, flags: Sequence[str],
            limit: int) -> str:
    """The last line: how many were listed, of what, and whether --limit cut the list."""
    what = f"{count} {kind + ' ' if kind else ''}document{'s' if count != 1 else ''}"
    why = f"flagged {' or '.join(flags)}" if flags else "with flagged pages"
    more = f" (--limit {limit} reached: there may be more)" if count >= limit else ""
    return f"{what} {why} in {env}, newest first{more}"
