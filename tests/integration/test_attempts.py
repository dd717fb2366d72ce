"""The attempts' history (ocrmp_job_attempts): a row per attempt, written by the statement
that claims the job and ended by the one that ends the attempt; and `cancel`."""

from __future__ import annotations

from typing import Any

import psycopg

from ocrmp.errors import error_kind
from ocrmp.store import JobStore
from ocrmp.vocabulary import AttemptOutcome, Status

WORKER = "host-a/pool/ocr-worker-1.1"
OTHER = "host-b/pool/ocr-worker-2.1"


def history(store: JobStore, job_id: str) -> list[tuple[Any, ...]]:
    return [(row["attempt"], row["worker"], row["host"], row["outcome"], row["error_kind"],
             row["ended_at"] is not None) for row in store.attempts(job_id)]


def one_job(store: JobStore, worker: str = WORKER) -> Any:
    store.enqueue("acte", "acte/doc.pdf", "123")
    [job] = store.claim([(worker, "acte")], lease_s=30)
    return job


def test_a_claim_opens_an_attempt_on_its_worker_and_host(dsn: str) -> None:
    store = JobStore(dsn)
    job = one_job(store)
    assert history(store, job.id) == [(1, WORKER, "host-a", None, None, False)]


def test_a_claim_of_several_opens_one_attempt_each(dsn: str) -> None:
    store = JobStore(dsn)
    for n in range(2):
        store.enqueue("acte", f"acte/{n}.pdf", str(n))
    jobs = store.claim([(WORKER, "acte"), (OTHER, "acte")], lease_s=30)
    assert {history(store, job.id)[0][1] for job in jobs} == {WORKER, OTHER}


def test_a_completion_ends_the_attempt_done(dsn: str) -> None:
    store = JobStore(dsn)
    job = one_job(store)
    store.complete(job.ref, "text", {}, pages=1)
    assert history(store, job.id) == [(1, WORKER, "host-a", AttemptOutcome.DONE, None, True)]


def test_a_completion_that_claims_the_next_job_opens_its_attempt(dsn: str) -> None:
    store = JobStore(dsn)
    first = one_job(store)
    store.enqueue("acte", "acte/next.pdf", "124")
    follow = store.complete_and_claim(first.ref, "text", {}, 1, kind="acte", lease_s=30)
    assert follow is not None
    assert history(store, first.id)[0][3] == AttemptOutcome.DONE
    assert history(store, follow.id) == [(1, WORKER, "host-a", None, None, False)]


def test_failures_end_the_attempt_with_their_kind(dsn: str) -> None:
    store = JobStore(dsn)
    job = one_job(store)
    store.fail(job.ref, "engine_timeout: acte/doc.pdf: page 1", permanent=False,
               kind="engine_timeout")
    [again] = store.claim([(OTHER, "acte")], lease_s=30)
    store.fail(again.ref, "corrupt_document: acte/doc.pdf: damaged", permanent=True,
               kind="corrupt_document")
    rows = history(store, job.id)
    assert [(row[0], row[3], row[4]) for row in rows] == [
        (1, AttemptOutcome.RETRY, "engine_timeout"),
        (2, AttemptOutcome.FAILED, "corrupt_document")]


def test_a_job_given_back_ends_the_attempt_released_and_the_next_one_reopens(dsn: str) -> None:
    store = JobStore(dsn)
    job = one_job(store)
    store.unclaim(job.ref, "ocr-worker-1 stopped: pool stopping")
    [again] = store.claim([(OTHER, "acte")], lease_s=30)
    assert again.attempt == 1
    assert [(row[0], row[1], row[3]) for row in history(store, job.id)] == [
        (1, WORKER, AttemptOutcome.RELEASED), (1, OTHER, None)]


def test_a_rescue_ends_the_attempt_released(dsn: str) -> None:
    store = JobStore(dsn)
    job = one_job(store)
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("UPDATE extraction_queue SET ocr_lease_expires_at = now() - interval '1 s'")
    store.rescue_expired()
    assert history(store, job.id)[0][3] == AttemptOutcome.RELEASED


def test_a_ready_job_cancelled_ends_in_error_with_the_kind_cancelled(dsn: str) -> None:
    store = JobStore(dsn)
    job_id = store.enqueue("acte", "acte/doc.pdf", "123")
    assert store.cancel(job_id, "cancelled: by hand") == (Status.READY, True)
    row = store.get(job_id)
    assert row is not None and row["status_id"] == Status.ERROR
    assert error_kind(row["ocr_error"]) == "cancelled"
    assert store.claim([(WORKER, "acte")], lease_s=30) == []


def test_a_running_job_cancelled_is_no_longer_held_by_its_attempt(dsn: str) -> None:
    store = JobStore(dsn)
    job = one_job(store)
    assert store.still_held(job.ref)
    assert store.cancel(job.id, "cancelled: by hand") == (Status.RUNNING, True)
    assert not store.still_held(job.ref)
    assert history(store, job.id)[0][3:5] == (AttemptOutcome.CANCELLED, "cancelled")


def test_a_done_job_is_not_cancelled(dsn: str) -> None:
    store = JobStore(dsn)
    job = one_job(store)
    store.complete(job.ref, "text", {}, pages=1)
    assert store.cancel(job.id, "cancelled: by hand") == (Status.DONE, False)
    row = store.get(job.id)
    assert row is not None and row["status_id"] == Status.DONE


def test_jobs_are_found_by_id_or_document_number(dsn: str) -> None:
    store = JobStore(dsn)
    first = store.enqueue("acte", "acte/a.pdf", "1 234 567")
    second = store.enqueue("acte", "acte/b.pdf", "1 234 567")
    assert store.find_jobs(first) == [first]
    assert store.find_jobs("1 234 567") == [first, second]
    assert store.find_jobs("nothing") == []
