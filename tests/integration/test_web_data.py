"""What the console reads and changes, on a real PostgreSQL: the jobs list's filters and
keyset pages, the review list, accept, and the attempts history."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from ocrmp.vocabulary import PageFlag
from ocrmp.web.data import Environment, JobFilter
from tests.console import Queue, add_attempt, row, seed
from tests.integration.test_diagnose import insert


@pytest.fixture
def queue(dsn: str, tmp_path: Path) -> Queue:
    return seed(dsn, tmp_path / "storage")


@pytest.fixture
def env(dsn: str) -> Iterator[Environment]:
    environment = Environment("dev", dsn)
    yield environment
    environment.close()


def numbers(rows: list[dict[str, object]]) -> list[object]:
    return [r["document_number"] for r in rows]


@pytest.mark.parametrize(("where", "expected"), [
    (JobFilter(), ["READY-5", "FAIL-4", "LEDG-3", "FLAG-2", "DONE-1"]),
    (JobFilter(status=5), ["LEDG-3", "FLAG-2", "DONE-1"]),
    (JobFilter(kind="index"), ["LEDG-3"]),
    (JobFilter(status=5, kind="acte"), ["FLAG-2", "DONE-1"]),
    (JobFilter(flag=PageFlag.LOW_CONFIDENCE), ["FLAG-2"]),
    (JobFilter(flag=PageFlag.HANDWRITING), []),
    (JobFilter(error_kind="corrupt_document"), ["FAIL-4"]),
    (JobFilter(error_kind="corrupt"), []),  # a kind is matched whole, not as a prefix
    (JobFilter(document_number="DONE-1"), ["DONE-1"]),
])
def test_each_filter_narrows_the_list_newest_first(env: Environment, queue: Queue,
                                                   where: JobFilter,
                                                   expected: list[str]) -> None:
    assert numbers(env.jobs(where)) == expected


def test_keyset_pages_cover_every_row_once_in_order(dsn: str, env: Environment) -> None:
    # Rows sharing one created_at (one transaction's insert) are told apart by id.
    insert(dsn, 7, document_number="same", created_at=("sql", "'2026-01-01 00:00:00+00'"))
    insert(dsn, 5, document_number="later", created_at=("sql", "'2026-01-02 00:00:00+00'"))
    seen: list[str] = []
    after = None
    while True:
        rows = env.jobs(JobFilter(), after=after, limit=3)
        seen += [str(r["id"]) for r in rows]
        if len(rows) < 3:
            break
        after = str(rows[-1]["id"])
    with psycopg.connect(dsn) as conn:
        every = [str(r[0]) for r in conn.execute(
            "SELECT id FROM extraction_queue ORDER BY created_at DESC, id DESC")]
    assert seen == every


def test_a_page_after_an_unknown_job_is_empty(env: Environment, queue: Queue) -> None:
    assert env.jobs(JobFilter(), after="00000000-0000-0000-0000-000000000000") == []


def test_review_lists_flagged_documents_oldest_first_until_accepted(
        dsn: str, env: Environment, queue: Queue) -> None:
    newer = seed_flagged_again(dsn)
    assert [r["id"] for r in env.to_review()] == [queue.flagged, newer]
    assert env.accept(queue.flagged, "marie")
    assert [r["id"] for r in env.to_review()] == [newer]
    job = env.job(queue.flagged)
    assert job is not None and job["accepted_by"] == "marie" and job["accepted_at"]


def test_a_document_read_again_after_acceptance_is_to_review_again(
        env: Environment, queue: Queue) -> None:
    assert env.accept(queue.flagged, "marie")
    assert env.requeue(queue.flagged)
    with psycopg.connect(env.store.dsn, autocommit=True) as conn:
        conn.execute("UPDATE extraction_queue SET status_id = 5, ocr_completed_at = now(), "
                     "ocr_result = (SELECT ocr_result FROM extraction_queue WHERE id = %s) "
                     "WHERE id = %s", (queue.flagged, queue.flagged))
    assert queue.flagged in [r["id"] for r in env.to_review()]
    job = env.job(queue.flagged)
    assert job is not None and job["accepted_by"] is None


def test_accept_leaves_a_document_that_is_not_flagged_alone(env: Environment,
                                                            queue: Queue) -> None:
    assert not env.accept(queue.done, "marie")
    assert not env.accept(queue.failed, "marie")


def test_requeue_moves_a_failed_document_back_to_ready_with_fresh_attempts(
        dsn: str, env: Environment, queue: Queue) -> None:
    assert env.requeue(queue.failed)
    moved = row(dsn, queue.failed)
    assert (moved["status_id"], moved["ocr_attempts"], moved["ocr_error"]) == (3, 0, None)


def test_cancel_leaves_a_running_document_to_its_pool(dsn: str, env: Environment) -> None:
    [running] = insert(dsn, status_id=6, ocr_worker_id="w0", ocr_attempts=1)
    assert not env.cancel(running, "marie")
    assert row(dsn, running)["status_id"] == 6


def test_attempts_come_first_first(dsn: str, env: Environment, queue: Queue) -> None:
    add_attempt(dsn, queue.failed, 3, None)
    assert [(a["attempt"], a["outcome"]) for a in env.attempts(queue.failed)] == [
        (1, "retry"), (2, "failed"), (3, None)]


def seed_flagged_again(dsn: str) -> str:
    """A second flagged document, done after the seeded one."""
    from ocrmp.ocr.pipeline import OcrResult
    from tests.console import page
    from tests.flagged import insert_done

    return insert_done(dsn, "acte", OcrResult("acte", "fake", [
        page(0, [PageFlag.NON_WORDS])]).to_json(), minutes_ago=1, document_number="FLAG-6")
