"""JobStore: the only code that talks SQL to the queue.

Every write after the claim is fenced by (id, ocr_worker_id, ocr_attempts): a worker whose
job was taken away (lease expired, released after a crash, re-claimed) gets StaleAttempt
instead of overwriting the newer attempt.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from ocrmp.db import connect, describe_dsn, translate
from ocrmp.errors import DatabaseUnavailable, StaleAttempt
from ocrmp.sqlfiles import queries
from ocrmp.vocabulary import Environment

# What an operator's command (status, review, requeue, enqueue, db check) lets one
# statement run: the server cancels it after that, even when the command was killed.
OPERATOR_STATEMENT_S = 60.0

@dataclass(frozen=True)
class JobRef:
    """What fences a write: the job, the worker that holds it, and which attempt this is."""

    id: str
    worker_id: str
    attempt: int


@dataclass(frozen=True)
class Job:
    id: str
    document_number: str
    kind: str
    supabase_path: str
    worker_id: str
    attempt: int
    max_attempts: int
    env: str

    @property
    def ref(self) -> JobRef:
        return JobRef(self.id, self.worker_id, self.attempt)


@dataclass(frozen=True)
class StatusCount:
    kind: str
    status_id: int
    total: int
    claimable: int
    backoff: int
    exhausted: int
    stuck: int
    oldest_ready_s: float | None


@dataclass(frozen=True)
class FlaggedCount:
    """Done documents of a kind with flagged pages; with a reason, those flagged for it."""

    kind: str
    reason: str | None
    documents: int


class NamedQueries:
    """One connection running the named queries of one .sql file: opened on first use,
    autocommit, dropped when broken so the next call reconnects; driver errors come out as
    ours, saying which query on which database."""

    def __init__(self, dsn: str, sql: Mapping[str, str], where: str, *,
                 application_name: str, statement_timeout_s: float | None = None) -> None:
        self.dsn = dsn
        self.sql = sql
        self.where = where
        self._application_name = application_name
        self._statement_timeout_s = statement_timeout_s
        self._conn: psycopg.Connection | None = None

    def _connection(self) -> psycopg.Connection:
        if self._conn is None or self._conn.closed or self._conn.broken:
            self._conn = connect(self.dsn, application_name=self._application_name,
                                 statement_timeout_s=self._statement_timeout_s)
        return self._conn

    def run(self, name: str, params: dict[str, Any] | None = None, *,
            rollback: bool = False) -> list[dict[str, Any]]:
        """Run a named query (rolled back if asked: a dry run)."""
        try:
            conn = self._connection()
            if rollback:
                with conn.transaction(force_rollback=True):
                    return self._execute(conn, name, params)
            return self._execute(conn, name, params)  # autocommit: one round trip
        except psycopg.Error as error:
            ours = translate(error, f"{name} on {self.where}")
            if isinstance(ours, DatabaseUnavailable):
                self.close()
            raise ours from error

    def _execute(self, conn: psycopg.Connection, name: str,
                 params: dict[str, Any] | None) -> list[dict[str, Any]]:
        with conn.cursor(row_factory=dict_row) as cur:
            cur.execute(self.sql[name].encode(), params or {})
            return cur.fetchall() if cur.description else []

    def close(self) -> None:
        if self._conn is not None:
            try:
                self._conn.close()
            finally:
                self._conn = None


class JobStore:
    """The queue of one environment's database."""

    def __init__(self, dsn: str, env: str = Environment.DEV, *,
                 application_name: str = "ocrmp",
                 statement_timeout_s: float | None = None) -> None:
        self.dsn = dsn
        self.env = env
        self.where = f"{env} database {describe_dsn(dsn)}"
        self._queries = NamedQueries(dsn, queries(), self.where,
                                     application_name=application_name,
                                     statement_timeout_s=statement_timeout_s)
        self._run = self._queries.run

    def close(self) -> None:
        self._queries.close()

    # -- the job lifecycle ------------------------------------------------------------

    def claim(self, wishes: Sequence[tuple[str, str]], lease_s: float) -> list[Job]:
        """Claim at most one job per (worker_id, kind) wish; 3 → 6 with the attempt counted."""
        if not wishes:
            return []
        if len(wishes) == 1:
            [(worker_id, kind)] = wishes
            rows = self._run("claim_one", {"worker_id": worker_id, "kind": kind,
                                           "lease_s": lease_s})
            return [self._job(row) for row in rows]
        rows = self._run("claim", {
            "workers": [worker for worker, _ in wishes],
            "kinds": [kind for _, kind in wishes],
            "lease_s": lease_s,
        })
        return [self._job(row) for row in rows]

    def _job(self, row: dict[str, Any]) -> Job:
        return Job(id=str(row["id"]), document_number=row["document_number"] or "",
                   kind=row["document_source"] or "", supabase_path=row["supabase_path"] or "",
                   worker_id=row["ocr_worker_id"], attempt=row["ocr_attempts"],
                   max_attempts=row["ocr_max_attempts"], env=self.env)

    def renew(self, refs: Iterable[JobRef], lease_s: float) -> set[str]:
        """Extend the leases of jobs still held; return the ids renewed."""
        refs = list(refs)
        if not refs:
            return set()
        rows = self._run("renew_leases", {
            "ids": [ref.id for ref in refs], "workers": [ref.worker_id for ref in refs],
            "attempts": [ref.attempt for ref in refs], "lease_s": lease_s,
        })
        return {str(row["id"]) for row in rows}

    def complete(self, ref: JobRef, text: str, result: dict[str, Any], pages: int) -> None:
        rows = self._run("complete", {**self._fence(ref), "text": text,
                                      "result": Jsonb(result), "pages": pages})
        if not rows:
            raise self._stale(ref, "completion")

    def complete_and_claim(self, ref: JobRef, text: str, result: dict[str, Any], pages: int,
                           *, kind: str, lease_s: float) -> Job | None:
        """`complete`, and in the same statement claim the oldest due job of `kind` for the
        same worker; the next job, or None when none waits."""
        [row] = self._run("complete_and_claim", {
            **self._fence(ref), "text": text, "result": Jsonb(result), "pages": pages,
            "kind": kind, "lease_s": lease_s})
        if not row["completed"]:
            raise self._stale(ref, "completion")
        return self._job(row) if row["id"] is not None else None

    def unclaim_follow_on(self, ref: JobRef) -> list[dict[str, Any]]:
        """Give back the job claimed with the completion of `ref`, if its worker still holds
        it; its attempt is undone."""
        return self._run("unclaim_follow_on", self._fence(ref))

    def fail(self, ref: JobRef, error: str, *, permanent: bool, retry_in_s: float = 0.0,
             kind: str | None = None) -> int:
        """Record a failure (of an error `kind`, when it has one); return the new status (3
        to retry later, 4 for good)."""
        rows = self._run("fail", {**self._fence(ref), "error": error[:2000], "error_kind": kind,
                                  "permanent": permanent, "retry_in_s": retry_in_s})
        if not rows:
            raise self._stale(ref, "failure")
        return int(rows[0]["status_id"])

    def release(self, ref: JobRef, reason: str, retry_in_s: float = 0.0) -> int:
        """Give a job back after its worker died; the attempt stays counted."""
        return self.fail(ref, reason, permanent=False, retry_in_s=retry_in_s)

    def unclaim(self, ref: JobRef, reason: str = "never started") -> int:
        """Give back a job that was claimed but never started, or whose worker an operator
        stopped; its attempt is undone (`reason` goes to its attempt's history)."""
        rows = self._run("unclaim", {**self._fence(ref), "reason": reason[:2000]})
        if not rows:
            raise self._stale(ref, "unclaim")
        return int(rows[0]["status_id"])

    def rescue_expired(self, *, limit: int = 100,
                       unleased_after_s: float = 1800.0) -> list[dict[str, Any]]:
        """Return running jobs whose lease ran out to 3 (or 4 when attempts are spent)."""
        return self._run("rescue_expired", {"limit": limit, "unleased_after_s": unleased_after_s})

    def still_held(self, ref: JobRef) -> bool:
        """Whether this attempt still holds its job (not cancelled, rescued or requeued)."""
        return bool(self._run("still_held", self._fence(ref))[0]["held"])

    def cancel(self, job_id: str, error: str) -> tuple[int, bool] | None:
        """A ready or running job to 4 (error kind `cancelled`): its status before, and
        whether it was cancelled (done and failed jobs are not); None if there is no such
        job."""
        rows = self._run("cancel", {"id": job_id, "error": error[:2000]})
        return (int(rows[0]["was"]), bool(rows[0]["cancelled"])) if rows else None

    def find_jobs(self, key: str, limit: int = 10) -> list[str]:
        """The ids of the jobs `key` names: an id, or a document number."""
        rows = self._run("find_jobs", {"key": key, "uuid": as_uuid(key), "limit": limit})
        return [row["id"] for row in rows]

    def attempts(self, job_id: str) -> list[dict[str, Any]]:
        """A job's attempts, oldest first (ocrmp_job_attempts)."""
        return self._run("job_attempts", {"id": job_id})

    def skip_plans(self, limit: int = 500) -> int:
        return len(self._run("skip_plans", {"limit": limit}))

    def _fence(self, ref: JobRef) -> dict[str, Any]:
        return {"id": ref.id, "worker_id": ref.worker_id, "attempt": ref.attempt}

    def _stale(self, ref: JobRef, what: str) -> StaleAttempt:
        return StaleAttempt(f"{what} of job {ref.id} attempt {ref.attempt} by {ref.worker_id} "
                            f"refused on {self.where}: the job has moved on (lease expired, "
                            "released or claimed again)")

    # -- reading and feeding the queue ------------------------------------------------

    def stats(self) -> list[StatusCount]:
        return [StatusCount(kind=row["kind"], status_id=row["status_id"], total=row["total"],
                            claimable=row["claimable"], backoff=row["backoff"],
                            exhausted=row["exhausted"], stuck=row["stuck"],
                            oldest_ready_s=(float(row["oldest_ready_s"])
                                            if row["oldest_ready_s"] is not None else None))
                for row in self._run("queue_stats")]

    def flagged_counts(self) -> list[FlaggedCount]:
        return [FlaggedCount(kind=row["kind"], reason=row["reason"],
                             documents=int(row["documents"]))
                for row in self._run("flagged_counts")]

    def flagged_documents(self, *, kind: str | None = None,
                          flags: Sequence[str] | None = None,
                          limit: int = 50) -> list[dict[str, Any]]:
        """The newest done documents with flagged pages (of `kind`, with any of `flags`)."""
        return self._run("flagged_documents", {"kind": kind, "flags": list(flags) if flags
                                               else None, "limit": limit})

    def ready_depths(self) -> dict[str, int]:
        return {row["kind"]: int(row["n"]) for row in self._run("ready_depths")}

    def enqueue(self, kind: str, supabase_path: str, document_number: str) -> str:
        rows = self._run("enqueue", {"kind": kind, "supabase_path": supabase_path,
                                     "document_number": document_number})
        return str(rows[0]["id"])

    def get(self, job_id: str) -> dict[str, Any] | None:
        rows = self._run("get_job", {"id": job_id})
        if not rows:
            return None
        row = rows[0]
        if isinstance(row.get("ocr_result"), str):
            row["ocr_result"] = json.loads(row["ocr_result"])
        return row

    # -- operations: enqueue many, requeue, diagnose ----------------------------------

    def enqueue_many(self, documents: Sequence[tuple[str, str, str]],
                     shas: Sequence[str | None] | None = None) -> list[str]:
        """Queue (kind, supabase_path, document_number) rows as ready, all or none, each
        with the sha256 of its content when given."""
        if not documents:
            return []
        rows = self._run("enqueue_many", {
            "kinds": [kind for kind, _, _ in documents],
            "paths": [path for _, path, _ in documents],
            "numbers": [number for _, _, number in documents],
            "shas": list(shas) if shas is not None else [None] * len(documents),
        })
        return [str(row["id"]) for row in rows]

    def same_content(self, shas: Sequence[str]) -> list[dict[str, Any]]:
        """Rows queued with any of these contents (sha256), oldest first."""
        return self._run("same_content", {"shas": list(shas)}) if shas else []

    def requeue(self, *, dry_run: bool, errored: bool, exhausted: bool, stuck: bool,
                done: bool = False, ids: Sequence[str] | None = None, kind: str | None = None,
                error_contains: str | None = None,
                unleased_after_s: float = 1800.0) -> list[dict[str, Any]]:
        """Move errored, exhausted, stuck (or done) jobs back to 3 (or, dry, list those
        that would)."""
        params = {"errored": errored, "exhausted": exhausted, "stuck": stuck, "done": done,
                  "ids": list(ids) if ids else None, "kind": kind,
                  "error": error_contains or None, "unleased_after_s": unleased_after_s}
        return self._run("requeue", params, rollback=dry_run)

    def schema_facts(self) -> dict[str, Any]:
        return self._run("schema_facts")[0]

    def status_names(self) -> dict[int, str]:
        return {int(row["id"]): str(row["name"]) for row in self._run("status_names")}

    def ready_reasons(self, examples: int = 5) -> list[dict[str, Any]]:
        return self._run("ready_reasons", {"examples": examples})

    def stalled_jobs(self, *, unleased_after_s: float = 1800.0,
                     downloading_after_s: float = 3600.0,
                     examples: int = 5) -> list[dict[str, Any]]:
        return self._run("stalled_jobs", {"unleased_after_s": unleased_after_s,
                                          "downloading_after_s": downloading_after_s,
                                          "examples": examples})


def as_uuid(text: str) -> str | None:
    """text as a job id, or None when it is none (then it can only be a document number)."""
    try:
        return str(uuid.UUID(text))
    except ValueError:
        return None
