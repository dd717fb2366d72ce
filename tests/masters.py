"""A master on a fake clock with fake processes (the queue and the slot table are real), and
what its workers would write, for the tests of its loop pass by pass."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ocrmp.config import Settings
from ocrmp.pool.master import Master
from ocrmp.pool.memory import HostMemory, TreeMemory
from ocrmp.pool.slots import Phase, Slot
from ocrmp.vocabulary import Environment, StopReason
from tests.clock import FakeClock
from tests.forking import FakeProcesses

MIB = 1 << 20


@contextmanager
def started(dsn: str, tmp_path: Path, clock: FakeClock, processes: FakeProcesses,
            **settings: object) -> Iterator[Master]:
    base = {"pool_name": f"t{uuid.uuid4().hex[:10]}", "size": 1, "min_index": 0,
            "min_acte": 0, "environments": {Environment.DEV: dsn}, "run_dir": tmp_path,
            "max_memory": 100 * MIB, "hard_memory": 200 * MIB, "job_timeout_s": 10.0,
            "kill_grace_s": 5.0, "memory_reserve": 0.0, **settings}
    master = Master(Settings(**base), clock=clock.seconds,  # type: ignore[arg-type]
                    processes=processes.calls())
    master.recycler.measure = lambda pid: TreeMemory(rss=10 * MIB, uss=8 * MIB)
    master.recycler.host = lambda: HostMemory(available=8 << 30, total=16 << 30)
    master.start()
    try:
        yield master
    finally:
        master.shutdown()


def slot(master: Master, index: int = 0) -> Slot:
    return master._table().slot(index)


def restarts(master: Master, reason: StopReason) -> float | None:
    return master.observer.metrics.registry.get_sample_value(
        "ocrmp_worker_restarts_total", {"reason": reason.value})


def idle(master: Master, index: int = 0) -> None:
    """What a worker writes once booted."""
    slot(master, index).phase = Phase.IDLE


def jobs_waiting(master: Master, clock: FakeClock) -> None:
    """What a NOTIFY would tell the master between two passes."""
    master.scheduler.refresh_depths(clock.seconds(), force=True)
    master.scheduler.claim_due = True
