"""`ocrmp job`, `ocrmp cancel` and `ocrmp logs`, run as an operator runs them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ocrmp.errors import error_kind
from ocrmp.store import JobStore
from ocrmp.vocabulary import Status
from tests.doubles import FAKE
from tests.poolrun import Pool, busy_worker_pids, enqueue, eventually, row

WORKER = "host-a/pool/ocr-worker-1.1"
TEXT = "\n".join(f"ligne {n}" for n in range(1, 16))


def ocrmp(dsn: str, *args: str, run_dir: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {key: value for key, value in os.environ.items()
           if not key.endswith("DATABASE_URL") and not key.startswith(("OCR_", "OCRMP_"))}
    env.update(OCR_DEV="true", DEV_DATABASE_URL=dsn)
    if run_dir is not None:
        env.update(OCRMP_RUN_DIR=str(run_dir), OCRMP_POOL_NAME="logged")
    return subprocess.run([sys.executable, "-m", "ocrmp", *args], env=env, capture_output=True,
                          text=True, timeout=120, check=False)


@pytest.fixture
def done_job(dsn: str) -> str:
    """A job done on its second attempt, its second page flagged."""
    store = JobStore(dsn)
    try:
        job_id = store.enqueue("acte", "acte/1234567.pdf", "1 234 567")
        [first] = store.claim([(WORKER, "acte")], lease_s=30)
        store.fail(first.ref, "engine_timeout: acte/1234567.pdf: page 2", permanent=False,
                   kind="engine_timeout")
        [second] = store.claim([(WORKER, "acte")], lease_s=30)
        result = {"page_results": [{"page": 1, "flags": []},
                                   {"page": 2, "flags": ["handwriting"]}]}
        store.complete(second.ref, TEXT, result, pages=2)
        return job_id
    finally:
        store.close()


def test_job_shows_status_history_flags_and_the_first_lines(dsn: str, done_job: str) -> None:
    shown = ocrmp(dsn, "job", "1 234 567")
    assert shown.returncode == 0, shown.stderr
    out = shown.stdout
    assert done_job in out
    assert "#1" in out and "retry engine_timeout" in out
    assert "#2" in out and "done" in out
    assert "page 2: handwriting" in out
    assert "ligne 1\n" in out and "ligne 15" not in out  # the first lines only


def test_job_json_has_the_whole_row_and_the_attempts(dsn: str, done_job: str) -> None:
    shown = ocrmp(dsn, "job", done_job, "--json")
    assert shown.returncode == 0, shown.stderr
    data = json.loads(shown.stdout)
    assert data["job"]["status_id"] == Status.DONE
    assert data["job"]["file_content"] == TEXT
    assert [a["outcome"] for a in data["attempts"]] == ["retry", "done"]
    assert data["attempts"][0]["error_kind"] == "engine_timeout"


def test_job_text_is_the_text_whole(dsn: str, done_job: str) -> None:
    shown = ocrmp(dsn, "job", done_job, "--text")
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout == TEXT + "\n"


def test_job_of_a_number_shared_by_two_jobs_asks_for_an_id(dsn: str) -> None:
    enqueue(dsn, 1)
    enqueue(dsn, 1)  # the same document number, acte-00000
    shown = ocrmp(dsn, "job", "acte-00000")
    assert shown.returncode == 1
    assert shown.stderr.count("\n") == 1


def test_job_that_does_not_exist_fails(dsn: str) -> None:
    assert ocrmp(dsn, "job", "no-such-number").returncode == 1


def test_cancel_of_a_ready_job_ends_it_in_error_as_cancelled(dsn: str) -> None:
    [job_id] = enqueue(dsn, 1)
    cancelled = ocrmp(dsn, "cancel", job_id)
    assert cancelled.returncode == 0, cancelled.stderr
    after = row(dsn, job_id)
    assert after["status_id"] == Status.ERROR
    assert error_kind(str(after["ocr_error"])) == "cancelled"


def test_cancel_of_a_done_job_changes_nothing(dsn: str, done_job: str) -> None:
    cancelled = ocrmp(dsn, "cancel", done_job)
    assert cancelled.returncode == 1
    assert row(dsn, done_job)["status_id"] == Status.DONE


def test_cancel_of_a_running_job_stops_its_worker_at_its_next_page(dsn: str,
                                                                   tmp_path: Path) -> None:
    [long] = enqueue(dsn, 1, "acte", "fake:pages=100000,sleep=0.05")
    [after] = enqueue(dsn, 1, "acte", "fake:sleep=0")
    pool = Pool(dsn, tmp_path, "--size", "1", "--min-index", "0", "--runner", FAKE).start()
    try:
        eventually(lambda: row(dsn, long)["status_id"] == Status.RUNNING, what="job running")
        cancelled = ocrmp(dsn, "cancel", long)
        assert cancelled.returncode == 0, cancelled.stderr
        eventually(lambda: row(dsn, after)["status_id"] == Status.DONE,
                   what="the worker free for the next job")
    finally:
        pool.ctl("stop", "--now")
        pool.wait()
    assert row(dsn, long)["status_id"] == Status.ERROR
    assert not busy_worker_pids(pool)


def test_logs_shows_the_last_lines_of_a_background_pools_log(dsn: str, tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    started = ocrmp(dsn, "ensure", "--size", "1", "--runner", FAKE, run_dir=run_dir)
    assert started.returncode == 0, started.stderr
    try:
        log = run_dir / "logged.log"
        eventually(lambda: "Started ocr-worker-1" in log.read_text(), what="a worker started")
        shown = ocrmp(dsn, "logs", "-n", "2", run_dir=run_dir)
        assert shown.returncode == 0, shown.stderr
        lines = shown.stdout.splitlines()
        assert len(lines) == 2
        assert all(line in log.read_text().splitlines() for line in lines)
        everything = ocrmp(dsn, "logs", "-n", "1000", run_dir=run_dir)
        assert "Started ocr-worker-1" in everything.stdout
    finally:
        ocrmp(dsn, "stop", "--now", run_dir=run_dir)


def test_logs_of_a_pool_that_never_ran_fails(dsn: str, tmp_path: Path) -> None:
    shown = ocrmp(dsn, "logs", run_dir=tmp_path / "run")
    assert shown.returncode == 1
    assert shown.stderr.count("\n") == 1
