"""What the console reads and changes in one environment's queue: plain data, no HTML.

The queue's counts are `ocrmp status`'s (`status.queue_summary` over the JobStore's
queries), requeue is `ocrmp requeue`'s statement; the rest are the console's own queries
(ocrmp/sql/web.sql).
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg

from ocrmp.errors import JOB_ERROR_KINDS
from ocrmp.ocr import errors as _ocr_errors  # noqa: F401  (its error kinds register on import)
from ocrmp.sqlfiles import web_queries
from ocrmp.status import queue_summary
from ocrmp.store import OPERATOR_STATEMENT_S, JobStore, NamedQueries
from ocrmp.vocabulary import CANCELLED

# Rows per page of the jobs list.
PAGE_ROWS = 50
# Each chart: its span in seconds, and its bucket (a unit of date_trunc, and its seconds).
HOUR = (3600, "minute", 60)
DAY = (86400, "hour", 3600)


class _ConsoleQueries(NamedQueries):
    """The console's queries, on a connection planned for the values each call gives."""

    def _connection(self) -> psycopg.Connection:
        fresh = self._conn is None or self._conn.closed or self._conn.broken
        conn = super()._connection()
        if fresh:
            conn.execute(self.sql["session"].encode())
        return conn


@dataclass(frozen=True)
class JobFilter:
    """The jobs list's filters; None: not filtered on."""

    status: int | None = None
    kind: str | None = None
    flag: str | None = None
    error_kind: str | None = None
    document_number: str | None = None

    def params(self) -> dict[str, Any]:
        return {"status": self.status, "kind": self.kind, "flag": self.flag,
                "error_head": self.error_kind, "number": self.document_number}


def error_counts(rows: list[dict[str, Any]]) -> dict[str, int]:
    """Errored documents by error kind; errors that name none (a lease expiry written by
    an older version, a worker's death) under "other"."""
    counts: dict[str, int] = {}
    for row in rows:
        kind = row["head"] if row["head"] in JOB_ERROR_KINDS else "other"
        counts[kind] = counts.get(kind, 0) + int(row["documents"])
    return dict(sorted(counts.items(), key=lambda item: (-item[1], item[0])))


def cancel_error(by: str) -> str:
    """A cancelled document's `ocr_error`: its kind first, as every error kind is written."""
    return f"{CANCELLED}: cancelled in the web console by {by}"


class Environment:
    """One environment's queue, as the console reads and changes it. Calls are serialised:
    one connection each for the JobStore's queries and the console's."""

    def __init__(self, env: str, dsn: str) -> None:
        self.env = env
        self.store = JobStore(dsn, env, application_name="ocrmp-web",
                              statement_timeout_s=OPERATOR_STATEMENT_S)
        self._queries = _ConsoleQueries(dsn, web_queries(), self.store.where,
                                        application_name="ocrmp-web",
                                        statement_timeout_s=OPERATOR_STATEMENT_S)
        self._lock = threading.Lock()

    def close(self) -> None:
        self.store.close()
        self._queries.close()

    def _run(self, name: str, params: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
        with self._lock:
            return self._queries.run(name, dict(params or {}))

    # -- overview ---------------------------------------------------------------------

    def overview(self) -> dict[str, Any]:
        with self._lock:
            kinds = queue_summary(self.store.stats(), self.store.flagged_counts())
        return {"kinds": kinds,
                "failures": error_counts(self._run("failures")),
                "hour": self.pages_done(*HOUR), "day": self.pages_done(*DAY),
                "now": float(self._run("now")[0]["now"])}

    def pages_done(self, span_s: int, unit: str, bucket_s: int) -> dict[int, int]:
        """Pages done per bucket start (unix seconds; buckets of one `unit`, `bucket_s`
        seconds) over the last `span_s` seconds."""
        rows = self._run("pages_done", {"span_s": span_s, "unit": unit})
        return {int(row["bucket"]): int(row["pages"]) for row in rows}

    # -- jobs -------------------------------------------------------------------------

    def jobs(self, where: JobFilter, after: str | None = None,
             limit: int = PAGE_ROWS) -> list[dict[str, Any]]:
        """A page of jobs, newest first, after the job `after` (the last of the page before)."""
        after_created: datetime | None = None
        if after is not None:
            job = self.job(after)
            if job is None:
                return []
            after_created = job["created_at"]
        return self._run("jobs", where.params() | {
            "after_created": after_created, "after_id": after, "limit": limit})

    def job(self, job_id: str) -> dict[str, Any] | None:
        rows = self._run("job", {"id": job_id})
        return rows[0] if rows else None

    def attempts(self, job_id: str) -> list[dict[str, Any]]:
        return self._run("attempts", {"id": job_id})

    # -- review -----------------------------------------------------------------------

    def to_review(self, limit: int = 200) -> list[dict[str, Any]]:
        return self._run("to_review", {"limit": limit})

    def accept(self, job_id: str, by: str) -> bool:
        return bool(self._run("accept", {"id": job_id, "by": by}))

    def cancel(self, job_id: str, by: str) -> bool:
        return bool(self._run("cancel", {"id": job_id, "error": cancel_error(by)}))

    def requeue(self, job_id: str) -> bool:
        """Back to 3 with fresh attempts, in `ocrmp requeue`'s statement: an errored, done
        or exhausted document (a running one stays with its pool)."""
        with self._lock:
            rows = self.store.requeue(dry_run=False, errored=True, exhausted=True,
                                      stuck=False, done=True, ids=[job_id])
        return bool(rows)
