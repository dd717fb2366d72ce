"""An operator's stop is never the document's failure: a job whose worker the master stops
for the operator (^C, TERM, `stop`, `restart`) goes back to ready with its attempt given back;
a crash, a timeout or memory still count one. The master's loop on a fake clock with fake
processes, against a real queue."""

from __future__ import annotations

import signal
from pathlib import Path

import psycopg
import pytest

from ocrmp.pool import asks
from ocrmp.pool.master import Master
from ocrmp.pool.slots import Phase
from ocrmp.vocabulary import Status
from tests.clock import FakeClock
from tests.forking import FakeProcesses
from tests.masters import idle, jobs_waiting, slot

pytestmark = pytest.mark.pool


def busy(master: Master, clock: FakeClock, dsn: str) -> tuple[str, int]:
    """One job handed to the master's worker and started; its id and the worker's pid."""
    from tests.poolrun import enqueue

    [job_id] = enqueue(dsn, 1, "acte")
    master.step()
    idle(master)
    jobs_waiting(master, clock)
    master.step()
    worker = slot(master)
    worker.taken_seq = worker.assign_seq
    worker.phase = Phase.BUSY
    worker.heartbeat_ns = clock.ns()
    return job_id, master.slots[0].pid


def job(dsn: str, job_id: str) -> tuple[int, int]:
    with psycopg.connect(dsn) as conn:
        row = conn.execute("SELECT status_id, ocr_attempts FROM extraction_queue WHERE id = %s",
                           (job_id,)).fetchone()
    assert row is not None
    return row[0], row[1]


def given_back(master: Master) -> float | None:
    return master.observer.metrics.registry.get_sample_value(
        "ocrmp_jobs_given_back_total", {"env": "dev", "kind": "acte"})


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGQUIT])
def test_a_job_stopped_now_goes_back_with_its_attempt(
        dsn: str, master: Master, clock: FakeClock, processes: FakeProcesses,
        signum: int) -> None:
    job_id, pid = busy(master, clock, dsn)
    assert job(dsn, job_id) == (Status.RUNNING, 1)
    master.wakeup.signals.append(signum)
    master.step()
    assert (pid, signal.SIGTERM) in processes.signals
    processes.exit(pid, signum=signal.SIGTERM)
    master.step()
    assert job(dsn, job_id) == (Status.READY, 0)
    assert given_back(master) == 1


def test_a_job_past_the_drain_goes_back_with_its_attempt(
        dsn: str, master: Master, clock: FakeClock, processes: FakeProcesses) -> None:
    job_id, pid = busy(master, clock, dsn)
    master.wakeup.signals.append(signal.SIGTERM)
    master.step()
    slot(master).heartbeat_ns = clock.ns()
    clock.advance(master.settings.graceful_timeout_s + 1)
    slot(master).heartbeat_ns = clock.ns()
    master.step()
    assert (pid, signal.SIGTERM) in processes.signals
    clock.advance(master.settings.kill_grace_s + 1)
    master.step()  # the KILL after the grace: still the operator's stop
    assert (pid, signal.SIGKILL) in processes.signals
    processes.exit(pid, signum=signal.SIGKILL)
    master.step()
    assert job(dsn, job_id) == (Status.READY, 0)


def test_the_drain_an_operator_asks_for_outlasts_the_graceful_timeout(
        dsn: str, master: Master, clock: FakeClock, processes: FakeProcesses,
        tmp_path: Path) -> None:
    job_id, pid = busy(master, clock, dsn)
    drain_s = master.settings.graceful_timeout_s * 10
    asks.request(master.settings.run_dir, master.settings.pool_name, asks.DRAIN,
                 drain_s=drain_s)
    master.wakeup.signals.append(signal.SIGTERM)
    master.step()
    clock.advance(master.settings.graceful_timeout_s + 1)
    slot(master).heartbeat_ns = clock.ns()
    master.step()
    assert (pid, signal.SIGTERM) not in processes.signals  # still draining
    clock.advance(drain_s)
    slot(master).heartbeat_ns = clock.ns()
    master.step()
    assert (pid, signal.SIGTERM) in processes.signals


def test_a_worker_that_crashes_while_the_pool_stops_counts_the_attempt(
        dsn: str, master: Master, clock: FakeClock, processes: FakeProcesses) -> None:
    job_id, pid = busy(master, clock, dsn)
    master.wakeup.signals.append(signal.SIGINT)
    master.step()
    processes.exit(pid, signum=signal.SIGSEGV)  # its document's doing, whatever we sent
    master.step()
    assert job(dsn, job_id) == (Status.READY, 1)
    assert given_back(master) in (None, 0)


def test_a_worker_killed_for_its_job_timeout_counts_the_attempt(
        dsn: str, master: Master, clock: FakeClock, processes: FakeProcesses) -> None:
    job_id, pid = busy(master, clock, dsn)
    clock.advance(master.settings.job_timeout_s + 1)
    master.step()
    assert (pid, signal.SIGTERM) in processes.signals
    processes.exit(pid, signum=signal.SIGTERM)
    master.step()
    assert job(dsn, job_id) == (Status.READY, 1)
    assert given_back(master) in (None, 0)
