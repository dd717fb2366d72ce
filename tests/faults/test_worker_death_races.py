"""Faults at the worst moment, made deterministic: what the fleet scenario hits by chance."""

from __future__ import annotations

import signal
from pathlib import Path

import psutil
import pytest

from ocrmp.pool import policy
from ocrmp.pool.slots import Phase, SlotSnapshot, SlotTable, SlotTableError
from tests.doubles import FAKE
from tests.poolrun import Pool, enqueue, eventually, signal_process, statuses

pytestmark = pytest.mark.pool  # make test runs these again with the pure atomics


def slot_of(pool: Pool) -> SlotSnapshot:
    with SlotTable.attach(pool.name) as table:
        return table.snapshot(0)


def idle(pool: Pool) -> bool:
    try:
        slot = slot_of(pool)
    except SlotTableError:
        return False  # not created yet
    return slot.phase == Phase.IDLE and not slot.pending and slot.pid > 0


def test_worker_killed_before_taking_its_job_does_not_run_twice(dsn: str,
                                                                 tmp_path: Path) -> None:
    """The master hands a job to a worker that dies before taking it (made certain here by
    stopping the worker first). The job must run once. Three rounds: whether the respawned
    worker takes the stale assignment before the master hands the job out again is a race."""
    pool = Pool(dsn, tmp_path, "--size", "1", "--min-index", "0", "--runner", FAKE).start()
    jobs = []
    try:
        for _ in range(3):
            eventually(lambda: idle(pool), what="an idle worker")
            victim = slot_of(pool).pid
            signal_process(victim, signal.SIGSTOP)  # it cannot take what the master hands it
            jobs += enqueue(dsn, 1, "acte", "fake:sleep=0.2")
            eventually(lambda: slot_of(pool).pending, what="the job handed to the stopped worker")
            signal_process(victim, signal.SIGKILL)  # dies with its assignment never taken
            eventually(lambda n=len(jobs): statuses(dsn) == {5: n}, what="completion")
            eventually(lambda gone=victim: idle(pool) and slot_of(pool).pid != gone,
                       what="the pool idle again")
    finally:
        pool.signal(signal.SIGTERM)
        assert pool.wait() == 0
    assert "Released job" in pool.log()
    assert [pool.executions()[job] for job in jobs] == [1, 1, 1], pool.record.read_text()


def test_a_killed_masters_workers_leave_no_child_behind(dsn: str, tmp_path: Path) -> None:
    """kill -9 of the master: the kernel kills its workers, which cannot clean up; what they
    run (tesseract, here the fake engine's stuck child) must die with them, not be orphaned."""
    enqueue(dsn, 1, "acte", "fake:hang-child")
    pool = Pool(dsn, tmp_path, "--size", "1", "--min-index", "0", "--runner", FAKE).start()
    children: list[psutil.Process] = []

    def hung_child() -> bool:
        children[:] = [child for worker in pool.workers() for child in worker.children()
                       if child.cmdline() == ["sleep", "3600"]]
        return bool(children)

    try:
        eventually(hung_child, what="the worker's stuck child running")
    finally:
        signal_process(pool.pid, signal.SIGKILL)
        pool.wait()
    gone, alive = psutil.wait_procs(children, timeout=30)
    assert alive == [] and len(gone) == 1


def test_a_shrunk_pool_grows_back_when_memory_returns_whatever_the_reserve() -> None:
    total = 24 << 30
    shrunk = policy.capacity_target(2, 2, int(total * 0.80), total, reserve=0.85)
    assert shrunk == 1
    assert policy.capacity_target(2, shrunk, int(total * 0.99), total, reserve=0.85) == 2
