"""The pool as users run it: `ocrmp run` with a fake engine against a real PostgreSQL."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import psutil
import pytest

from ocrmp.exitcodes import ExitCode
from tests.doubles import FAKE
from tests.poolrun import Pool, alive, busy_worker_pids, enqueue, eventually, row, statuses

pytestmark = pytest.mark.usefixtures("atomics_flavour")


@pytest.fixture(params=["native", "pure"])
def atomics_flavour(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Pool tests run against both atomics implementations (the subprocess inherits the
    choice; a native build that is missing fails the pool instead of falling back)."""
    monkeypatch.delenv("OCRMP_PUREPYTHON", raising=False)
    monkeypatch.setenv("OCRMP_ATOMICS", str(request.param))
    return str(request.param)


def test_every_job_completes_exactly_once(dsn: str, tmp_path: Path) -> None:
    ids = enqueue(dsn, 200, "acte", "fake:sleep=0.01")
    pool = Pool(dsn, tmp_path, "--size", "3", "--runner", FAKE, "--until-idle").start()
    assert pool.wait() == 0, pool.log()
    assert statuses(dsn) == {5: 200}
    executions = pool.executions()
    assert set(executions) == set(ids)
    assert max(executions.values()) == 1
    assert "Started ocr-worker-3" in pool.log()


def test_kill_9_of_a_busy_worker_releases_its_job_at_once(dsn: str, tmp_path: Path) -> None:
    [slow] = enqueue(dsn, 1, "acte", "fake:sleep=3")
    pool = Pool(dsn, tmp_path, "--size", "1", "--min-index", "0", "--runner", FAKE).start()
    try:
        eventually(lambda: bool(busy_worker_pids(pool)), what="the job to start")
        [victim] = busy_worker_pids(pool)
        os.kill(victim, signal.SIGKILL)
        eventually(lambda: pool.executions()[slow] == 2, what="the job to run again")
        eventually(lambda: statuses(dsn) == {5: 1}, what="completion")
    finally:
        pool.signal(signal.SIGTERM)
        assert pool.wait() == 0
    assert row(dsn, slow)["ocr_attempts"] == 2
    assert "killed by SIGKILL (perhaps out of memory)" in pool.log()
    assert "Released job" in pool.log()


def test_runaway_memory_is_killed_and_ends_in_error(dsn: str, tmp_path: Path) -> None:
    [runaway] = enqueue(dsn, 1, "acte", "fake:leak=40M")
    [fine] = enqueue(dsn, 1, "acte", "fake:sleep=0")
    pool = Pool(dsn, tmp_path, "--size", "1", "--min-index", "0", "--runner", FAKE,
                "--max-memory", "150M", "--hard-memory", "250M", "--until-idle").start()
    assert pool.wait() == 0, pool.log()
    failed = row(dsn, runaway)
    assert failed["status_id"] == 4
    assert failed["ocr_attempts"] == 3
    assert "over the hard limit" in str(failed["ocr_error"])
    assert row(dsn, fine)["status_id"] == 5


def test_growing_worker_is_recycled_between_jobs(dsn: str, tmp_path: Path) -> None:
    enqueue(dsn, 6, "acte", "fake:grow=60M,sleep=0.4")
    pool = Pool(dsn, tmp_path, "--size", "1", "--min-index", "0", "--runner", FAKE,
                "--max-memory", "150M", "--hard-memory", "2G", "--until-idle").start()
    assert pool.wait() == 0, pool.log()
    assert statuses(dsn) == {5: 6}
    assert "recycled: memory" in pool.log()
    assert max(pool.executions().values()) == 1  # recycling lost or repeated nothing


def test_hanging_engine_is_killed_with_its_children(dsn: str, tmp_path: Path) -> None:
    [hung] = enqueue(dsn, 1, "acte", "fake:hang-child")
    pool = Pool(dsn, tmp_path, "--size", "1", "--min-index", "0", "--runner", FAKE,
                "--job-timeout", "1s", env={"OCRMP_RETRY_BASE": "0"}).start()
    try:
        eventually(lambda: row(dsn, hung)["status_id"] == 4, timeout=90, what="error status")
    finally:
        pool.signal(signal.SIGTERM)
        pool.wait()
    assert "job timeout" in pool.log()
    orphans = [p for p in psutil.process_iter(["cmdline", "ppid"])
               if p.info["cmdline"] == ["sleep", "3600"] and p.info["ppid"] == 1]
    assert orphans == []


def test_crash_on_start_trips_the_breaker(dsn: str, tmp_path: Path) -> None:
    pool = Pool(dsn, tmp_path, "--size", "2", "--runner", f"{FAKE}:crash-on-start").start()
    assert pool.wait(timeout=120) == ExitCode.BREAKER
    assert "tripped its breaker" in pool.log()


def test_term_finishes_running_jobs_then_exits(dsn: str, tmp_path: Path) -> None:
    enqueue(dsn, 2, "acte", "fake:sleep=2")
    pool = Pool(dsn, tmp_path, "--size", "2", "--min-index", "0", "--runner", FAKE).start()
    eventually(lambda: len(busy_worker_pids(pool)) == 2, what="both jobs running")
    pool.signal(signal.SIGTERM)
    assert pool.wait() == 0
    assert statuses(dsn) == {5: 2}


def test_int_gives_running_jobs_back_with_their_attempt(dsn: str, tmp_path: Path) -> None:
    ids = enqueue(dsn, 2, "acte", "fake:sleep=30")
    pool = Pool(dsn, tmp_path, "--size", "2", "--min-index", "0", "--runner", FAKE).start()
    eventually(lambda: len(busy_worker_pids(pool)) == 2, what="both jobs running")
    pool.signal(signal.SIGINT)
    assert pool.wait() == 0
    assert statuses(dsn) == {3: 2}
    assert {row(dsn, job)["ocr_attempts"] for job in ids} == {0}


def test_hup_reloads_the_rate_limit(dsn: str, tmp_path: Path) -> None:
    enqueue(dsn, 20, "acte", "fake:sleep=0")
    config = tmp_path / "ocrmp.env"
    config.write_text("OCRMP_RATE_LIMIT=dev=1/h\n")
    pool = Pool(dsn, tmp_path, "--size", "1", "--min-index", "0", "--runner", FAKE,
                "--config", str(config)).start()
    try:
        eventually(lambda: statuses(dsn)[5] >= 1, what="the burst done")
        assert statuses(dsn)[3] > 0  # the rest waits for the limit
        config.write_text("OCRMP_RATE_LIMIT=dev=100/s\n")
        assert pool.ctl("reload", "--config", str(config)).returncode == 0
        eventually(lambda: statuses(dsn) == {5: 20}, what="all jobs done under the new limit")
    finally:
        pool.signal(signal.SIGTERM)
        assert pool.wait() == 0


def test_hup_replaces_every_worker_without_losing_a_job(dsn: str, tmp_path: Path) -> None:
    ids = enqueue(dsn, 60, "acte", "fake:sleep=0.1")
    pool = Pool(dsn, tmp_path, "--size", "2", "--min-index", "0", "--runner", FAKE).start()
    try:
        eventually(lambda: len(pool.workers()) == 2, what="two workers")
        before = {p.pid for p in pool.workers()}
        assert pool.ctl("reload").returncode == 0  # HUP through the pidfile
        eventually(lambda: not before & {p.pid for p in pool.workers()}
                   and len(pool.workers()) == 2, what="every worker replaced")
        eventually(lambda: statuses(dsn) == {5: 60}, what="all jobs done")
    finally:
        pool.signal(signal.SIGTERM)
        assert pool.wait() == 0
    assert max(pool.executions().values()) == 1
    assert set(pool.executions()) == set(ids)


def test_ttin_and_ttou_change_the_live_size(dsn: str, tmp_path: Path) -> None:
    pool = Pool(dsn, tmp_path, "--size", "1", "--runner", FAKE).start()
    try:
        eventually(lambda: len(pool.workers()) == 1, what="one worker")
        assert pool.ctl("scale", "+2").returncode == 0
        eventually(lambda: len(pool.workers()) == 3, what="three workers")
        pool.signal(signal.SIGTTOU)
        eventually(lambda: len(pool.workers()) == 2, what="two workers")
    finally:
        pool.signal(signal.SIGTERM)
        assert pool.wait() == 0


def test_second_master_refuses_and_stop_works_through_the_pidfile(dsn: str,
                                                                  tmp_path: Path) -> None:
    pool = Pool(dsn, tmp_path, "--size", "1", "--runner", FAKE).start()
    try:
        eventually(lambda: len(pool.workers()) == 1, what="one worker")
        second = pool.ctl("run", "--size", "1", "--runner", FAKE, timeout=60)
        assert second.returncode == ExitCode.ALREADY_RUNNING
        assert "already running" in second.stderr
        assert len(second.stderr.strip().splitlines()) == 1
        listing = pool.ctl("workers")
        assert listing.returncode == 0 and "ocr-worker-1" in listing.stdout
        stopped = pool.ctl("stop")
        assert stopped.returncode == 0, stopped.stderr
        assert pool.wait(30) == 0
    finally:
        pool.kill()
    assert pool.ctl("stop").returncode == ExitCode.NOT_RUNNING


def test_restart_replaces_the_master(dsn: str, tmp_path: Path) -> None:
    pool = Pool(dsn, tmp_path, "--size", "1", "--runner", FAKE)
    try:
        started = pool.ctl("ensure", "--size", "1", "--runner", FAKE)
        assert started.returncode == 0, started.stderr
        assert "started pool" in started.stdout
        again = pool.ctl("ensure", "--size", "1", "--runner", FAKE)
        assert "already running" in again.stdout
        first_pid = int(started.stdout.split("pid ")[1].rstrip(")\n"))
        restarted = pool.ctl("restart", "--size", "1", "--runner", FAKE, "--wait", "60s")
        assert restarted.returncode == 0, restarted.stderr
        second_pid = int(restarted.stdout.split("pid ")[1].rstrip(")\n"))
        assert second_pid != first_pid and not alive(first_pid)
        assert pool.ctl("stop").returncode == 0
        eventually(lambda: not alive(second_pid), what="the master to exit")
    finally:
        pool.ctl("stop", "--now")  # never leave a background master behind
