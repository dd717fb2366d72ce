"""The JobStore against a real PostgreSQL: claim, fences, retries, rescue, statistics."""

from __future__ import annotations

import multiprocessing as mp
import threading
import time

import psycopg
import pytest

from ocrmp.errors import DatabaseError, SchemaError, StaleAttempt
from ocrmp.store import JobStore
from ocrmp.vocabulary import Status


def fill(store: JobStore, kind: str, n: int) -> list[str]:
    return [store.enqueue(kind, f"{kind}/doc-{i}.pdf", f"{kind}-{i}") for i in range(n)]


def test_claim_takes_oldest_of_each_kind_and_counts_the_attempt(dsn: str) -> None:
    store = JobStore(dsn)
    acte = fill(store, "acte", 3)
    index = fill(store, "index", 2)
    jobs = store.claim([("w1", "acte"), ("w2", "index"), ("w3", "acte")], lease_s=30)
    by_worker = {job.worker_id: job for job in jobs}
    assert by_worker["w1"].id == acte[0] and by_worker["w3"].id == acte[1]
    assert by_worker["w2"].id == index[0]
    row = store.get(acte[0])
    assert row is not None
    assert (row["status_id"], row["ocr_attempts"], row["ocr_worker_id"]) == (6, 1, "w1")
    assert row["ocr_lease_expires_at"] is not None


def test_claim_skips_exhausted_and_not_yet_due_jobs(dsn: str) -> None:
    store = JobStore(dsn)
    exhausted, later, due = fill(store, "acte", 3)
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("UPDATE extraction_queue SET ocr_attempts = 3 WHERE id = %s", (exhausted,))
        conn.execute("UPDATE extraction_queue SET ocr_next_attempt_at = now() + interval '1 h' "
                     "WHERE id = %s", (later,))
    jobs = store.claim([("w1", "acte"), ("w2", "acte")], lease_s=30)
    assert [job.id for job in jobs] == [due]


def test_complete_and_claim_completes_then_claims_the_oldest_due_job_for_the_same_worker(
        dsn: str) -> None:
    store = JobStore(dsn)
    fill(store, "index", 1)
    acte = fill(store, "acte", 3)
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("UPDATE extraction_queue SET ocr_next_attempt_at = now() + interval '1 h' "
                     "WHERE id = %s", (acte[1],))
    [first] = store.claim([("w1", "acte")], lease_s=30)
    follow = store.complete_and_claim(first.ref, "text", {"pages": []}, 1, kind="acte",
                                      lease_s=30)
    assert follow is not None
    assert (follow.id, follow.worker_id, follow.attempt, follow.kind) == (acte[2], "w1", 1,
                                                                          "acte")
    done, held = store.get(first.id), store.get(follow.id)
    assert done is not None and held is not None
    assert (done["status_id"], done["file_content"]) == (Status.DONE, "text")
    assert (held["status_id"], held["ocr_lease_expires_at"] is not None) == (Status.RUNNING,
                                                                              True)
    assert store.complete_and_claim(follow.ref, "text", {}, 1, kind="acte", lease_s=30) is None


def test_a_stale_completion_claims_nothing(dsn: str) -> None:
    store = JobStore(dsn)
    fill(store, "acte", 2)
    [first] = store.claim([("w1", "acte")], lease_s=30)
    store.release(first.ref, "worker died")
    with pytest.raises(StaleAttempt, match="attempt 1 by w1"):
        store.complete_and_claim(first.ref, "stale", {}, 1, kind="acte", lease_s=30)
    assert store.ready_depths() == {"acte": 2}


def test_unclaim_follow_on_gives_back_only_the_job_claimed_with_that_completion(
        dsn: str) -> None:
    store = JobStore(dsn)
    fill(store, "acte", 3)
    [first] = store.claim([("w1", "acte")], lease_s=30)
    [other] = store.claim([("w1", "acte")], lease_s=30)  # held by the same worker, apart
    follow = store.complete_and_claim(first.ref, "text", {}, 1, kind="acte", lease_s=30)
    assert follow is not None
    assert store.unclaim_follow_on(other.ref) == []  # not completed: claimed nothing
    [given] = store.unclaim_follow_on(first.ref)
    assert str(given["id"]) == follow.id
    rows = [store.get(job.id) for job in (first, other, follow)]
    assert [(r["status_id"], r["ocr_attempts"]) for r in rows if r] == [
        (Status.DONE, 1), (Status.RUNNING, 1), (Status.READY, 0)]
    assert store.unclaim_follow_on(first.ref) == []


def test_complete_is_fenced_against_a_stale_attempt(dsn: str) -> None:
    store = JobStore(dsn)
    [job_id] = fill(store, "acte", 1)
    [first] = store.claim([("w1", "acte")], lease_s=30)
    assert store.release(first.ref, "worker died") == Status.READY
    [second] = store.claim([("w2", "acte")], lease_s=30)
    assert second.attempt == 2
    with pytest.raises(StaleAttempt, match="attempt 1 by w1"):
        store.complete(first.ref, "stale text", {}, pages=1)
    store.complete(second.ref, "fresh text", {"pages": []}, pages=1)
    row = store.get(job_id)
    assert row is not None
    assert (row["status_id"], row["file_content"], row["ocr_page_count"]) == (5, "fresh text", 1)
    with pytest.raises(StaleAttempt):
        store.fail(second.ref, "late failure", permanent=True)


def test_transient_failure_waits_then_exhaustion_ends_in_error(dsn: str) -> None:
    store = JobStore(dsn)
    [job_id] = fill(store, "index", 1)
    for attempt in (1, 2):
        [job] = store.claim([("w", "index")], lease_s=30)
        assert job.attempt == attempt
        assert store.fail(job.ref, "engine timeout", permanent=False, retry_in_s=3600) == 3
        assert store.claim([("w", "index")], lease_s=30) == []  # not due yet
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute("UPDATE extraction_queue SET ocr_next_attempt_at = now()")
    [job] = store.claim([("w", "index")], lease_s=30)
    assert store.fail(job.ref, "engine timeout", permanent=False, retry_in_s=1) == Status.ERROR
    row = store.get(job_id)
    assert row is not None
    assert (row["status_id"], row["ocr_attempts"], row["ocr_error"]) == (4, 3, "engine timeout")


def test_permanent_failure_goes_to_error_at_once(dsn: str) -> None:
    store = JobStore(dsn)
    fill(store, "acte", 1)
    [job] = store.claim([("w", "acte")], lease_s=30)
    assert store.fail(job.ref, "corrupt PDF", permanent=True) == Status.ERROR


def expire_leases(dsn: str, **columns: int) -> None:
    sets = "".join(f", {name} = {value}" for name, value in columns.items())
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f"UPDATE extraction_queue SET ocr_lease_expires_at = now() - interval '1 s'"
                     f"{sets} WHERE status_id = 6")  # type: ignore[arg-type]


def test_rescue_gives_the_attempt_of_an_expired_lease_back(dsn: str) -> None:
    """A lease runs out because its pool died, not because of the document."""
    store = JobStore(dsn)
    fill(store, "acte", 1)
    [job] = store.claim([("w1", "acte")], lease_s=30)
    expire_leases(dsn, ocr_attempts=3)  # even the last attempt
    [rescued] = store.rescue_expired()
    assert (rescued["status_id"], rescued["attempt_given_back"]) == (Status.READY, True)
    assert store.rescue_expired() == []
    row = store.get(job.id)
    assert row is not None and row["ocr_attempts"] == 2
    assert "attempt given back" in str(row["ocr_error"])
    with pytest.raises(StaleAttempt):
        store.complete(job.ref, "late", {}, pages=1)


def test_rescue_counts_the_attempt_once_give_backs_are_spent(dsn: str) -> None:
    """A document that takes whole pools down with it still ends in 4."""
    store = JobStore(dsn)
    fill(store, "acte", 2)
    jobs = store.claim([("w1", "acte"), ("w2", "acte")], lease_s=30)
    expire_leases(dsn, ocr_attempts_returned=3)
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("UPDATE extraction_queue SET ocr_attempts = 3 WHERE id = %s", (jobs[1].id,))
    rescued = {str(row["id"]): (row["status_id"], row["attempt_given_back"])
               for row in store.rescue_expired()}
    assert rescued == {jobs[0].id: (Status.READY, False), jobs[1].id: (Status.ERROR, False)}
    row = store.get(jobs[0].id)
    assert row is not None and row["ocr_attempts"] == 1


def test_requeue_resets_the_attempts_given_back(dsn: str) -> None:
    store = JobStore(dsn)
    [job] = fill(store, "acte", 1)
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("UPDATE extraction_queue SET status_id = 4, ocr_attempts = 3, "
                     "ocr_attempts_returned = 3")
    store.requeue(dry_run=False, errored=True, exhausted=False, stuck=False)
    with psycopg.connect(dsn) as conn:
        assert conn.execute("SELECT ocr_attempts, ocr_attempts_returned FROM extraction_queue "
                            "WHERE id = %s", (job,)).fetchone() == (0, 0)


def test_renew_extends_only_leases_still_held(dsn: str) -> None:
    store = JobStore(dsn)
    fill(store, "acte", 2)
    held, lost = store.claim([("w1", "acte"), ("w2", "acte")], lease_s=1)
    store.release(lost.ref, "gone")
    assert store.renew([held.ref, lost.ref], lease_s=600) == {held.id}


def test_plans_skip_ocr(dsn: str) -> None:
    store = JobStore(dsn)
    [plan] = fill(store, "plan_cadastraux", 1)
    assert store.skip_plans() == 1
    row = store.get(plan)
    assert row is not None and row["status_id"] == Status.DONE


def test_stats_count_each_case(dsn: str) -> None:
    store = JobStore(dsn)
    fill(store, "acte", 4)
    [running] = store.claim([("w", "acte")], lease_s=30)
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("UPDATE extraction_queue SET ocr_lease_expires_at = now() - interval '1 s' "
                     "WHERE id = %s", (running.id,))
        conn.execute("UPDATE extraction_queue SET ocr_next_attempt_at = now() + interval '1 h' "
                     "WHERE id = (SELECT id FROM extraction_queue WHERE status_id = 3 LIMIT 1)")
    counts = {(c.kind, c.status_id): c for c in store.stats()}
    ready = counts[("acte", Status.READY)]
    assert (ready.total, ready.claimable, ready.backoff) == (3, 2, 1)
    assert counts[("acte", Status.RUNNING)].stuck == 1
    assert store.ready_depths() == {"acte": 2}


def test_missing_schema_is_a_clear_error(empty_dsn: str) -> None:
    with pytest.raises(SchemaError, match="ocrmp db migrate"):
        JobStore(empty_dsn).claim([("w", "acte")], lease_s=30)


def _claim_all(dsn: str, name: str, out: mp.Queue) -> None:  # type: ignore[type-arg]
    store = JobStore(dsn)
    claimed: list[str] = []
    empty_passes = 0
    while empty_passes < 3:
        jobs = store.claim([(f"{name}-{i}", kind) for i in range(4) for kind in ("acte", "index")],
                           lease_s=60)
        claimed += [job.id for job in jobs]
        empty_passes = 0 if jobs else empty_passes + 1
        if not jobs:
            time.sleep(0.01)
    out.put(claimed)


def test_concurrent_claims_never_hand_a_job_out_twice(dsn: str) -> None:
    store = JobStore(dsn)
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("INSERT INTO extraction_queue (document_number, document_source, status_id) "
                     "SELECT g::text, CASE WHEN g % 2 = 0 THEN 'acte' ELSE 'index' END, 3 "
                     "FROM generate_series(1, 3000) g")
    ctx = mp.get_context("fork")
    out = ctx.Queue()
    procs = [ctx.Process(target=_claim_all, args=(dsn, f"p{i}", out)) for i in range(6)]
    for proc in procs:
        proc.start()
    results = [out.get(timeout=120) for _ in procs]
    for proc in procs:
        proc.join(30)
    every = [job_id for result in results for job_id in result]
    assert len(every) == 3000
    assert len(set(every)) == 3000
    assert sum(1 for result in results if result) > 1  # the work really was shared
    counts = {(c.kind, c.status_id): c.total for c in store.stats()}
    assert counts == {("acte", 6): 1500, ("index", 6): 1500}


def test_an_operator_statement_is_cancelled_by_the_server_at_its_timeout(dsn: str) -> None:
    """Waiting on a lock stands for any statement that runs on: the server ends it, so
    it cannot outlive a killed client."""
    store = JobStore(dsn, statement_timeout_s=0.5)
    with psycopg.connect(dsn) as holder:
        holder.execute("LOCK TABLE extraction_queue IN ACCESS EXCLUSIVE MODE")
        release = threading.Timer(30, holder.rollback)  # a build without the timeout
        release.start()
        try:
            with pytest.raises(DatabaseError):
                store.ready_depths()
        finally:
            release.cancel()
            store.close()
