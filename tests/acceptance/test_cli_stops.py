"""An operator's stops, as an operator gives them (^C, `ocrmp stop`, `ocrmp restart`,
`ocrmp stop --now`), never fail a document: a pool busy on two long jobs, stopped again and
again, leaves both ready with no attempt spent; a document that crashes its worker still
ends in error."""

from __future__ import annotations

import signal
from pathlib import Path

from tests.doubles import FAKE
from tests.poolrun import Pool, busy_worker_pids, enqueue, eventually, row, statuses

LONG = "fake:sleep=600"  # longer than any drain here
POOL_ARGS = ("--size", "2", "--min-index", "0", "--runner", FAKE, "--graceful-timeout", "2s")


def both_busy(pool: Pool) -> None:
    eventually(lambda: len(busy_worker_pids(pool)) == 2, what="both jobs running")


def untouched(dsn: str, ids: list[str]) -> bool:
    return statuses(dsn) == {3: 2} and {row(dsn, job)["ocr_attempts"] for job in ids} == {0}


def test_three_stops_leave_both_long_jobs_ready_with_no_attempt_spent(
        dsn: str, tmp_path: Path) -> None:
    ids = enqueue(dsn, 2, "acte", LONG)
    pool = Pool(dsn, tmp_path, *POOL_ARGS).start()
    both_busy(pool)
    pool.signal(signal.SIGINT)  # ^C
    assert pool.wait() == 0, pool.log()
    assert untouched(dsn, ids)

    pool = Pool(dsn, tmp_path, *POOL_ARGS, name=pool.name).start()
    both_busy(pool)
    stopped = pool.ctl("stop")  # drains for the graceful timeout, then gives them back
    assert stopped.returncode == 0, stopped.stderr
    assert pool.wait() == 0, pool.log()
    assert untouched(dsn, ids)

    pool = Pool(dsn, tmp_path, *POOL_ARGS, name=pool.name).start()
    try:
        both_busy(pool)
        restarted = pool.ctl("restart", *POOL_ARGS)
        assert restarted.returncode == 0, restarted.stderr
        assert pool.wait() == 0, pool.log()
        both_busy(pool)  # the new pool took them again
    finally:
        now = pool.ctl("stop", "--now")
    assert now.returncode == 0, now.stderr
    assert untouched(dsn, ids)


def test_stop_wait_drains_past_the_graceful_timeout(dsn: str, tmp_path: Path) -> None:
    enqueue(dsn, 2, "acte", "fake:sleep=4")
    pool = Pool(dsn, tmp_path, "--size", "2", "--min-index", "0", "--runner", FAKE,
                "--graceful-timeout", "0s").start()
    both_busy(pool)
    stopped = pool.ctl("stop", "--wait", "10m")
    assert stopped.returncode == 0, stopped.stderr
    assert pool.wait() == 0, pool.log()
    assert statuses(dsn) == {5: 2}


def test_a_document_that_crashes_its_worker_still_ends_in_error(dsn: str,
                                                               tmp_path: Path) -> None:
    [poison] = enqueue(dsn, 1, "acte", "fake:crash")
    pool = Pool(dsn, tmp_path, "--size", "1", "--min-index", "0", "--runner", FAKE,
                "--until-idle", env={"OCRMP_RETRY_BASE": "0"}).start()
    assert pool.wait() == 0, pool.log()
    failed = row(dsn, poison)
    assert (failed["status_id"], failed["ocr_attempts"]) == (4, 3)
