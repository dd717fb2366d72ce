"""The master's loop, pass by pass, on a fake clock and with fake processes (the queue and
the slot table are real): what it spawns, kills, recycles and hands out, and why it says
a worker ended."""

from __future__ import annotations

import os
import signal
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from ocrmp.config import Settings
from ocrmp.exitcodes import ExitCode
from ocrmp.pool.master import Master
from ocrmp.pool.memory import HostMemory, TreeMemory
from ocrmp.pool.slots import Command, Phase, Slot
from ocrmp.pool.worker import counts, follow_to_text
from ocrmp.store import Job, JobStore
from ocrmp.vocabulary import Environment, Kind, Status, StopReason
from tests.clock import SECOND, FakeClock
from tests.forking import FakeProcesses
from tests.poolrun import enqueue, row, statuses

pytestmark = pytest.mark.pool  # make test runs these again with the pure atomics
MIB = 1 << 20


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(start_s=1000)


@pytest.fixture
def processes() -> FakeProcesses:
    return FakeProcesses()


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


@pytest.fixture
def master(dsn: str, tmp_path: Path, clock: FakeClock,
           processes: FakeProcesses) -> Iterator[Master]:
    with started(dsn, tmp_path, clock, processes) as made:
        yield made


@pytest.fixture
def pair(dsn: str, tmp_path: Path, clock: FakeClock,
         processes: FakeProcesses) -> Iterator[Master]:
    """A master of two workers."""
    with started(dsn, tmp_path, clock, processes, size=2) as made:
        yield made


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


def test_the_pool_is_brought_to_size(dsn: str, tmp_path: Path, clock: FakeClock,
                                     processes: FakeProcesses) -> None:
    with started(dsn, tmp_path, clock, processes, size=3) as master:
        master.step()
        assert [state.pid for state in master.live_slots()] == sorted(processes.children)
        assert len(processes.children) == 3
        assert slot(master, 2).generation == 1
        assert slot(master, 2).phase is Phase.STARTING


def test_a_crashing_worker_is_respawned_with_backoff_then_trips_its_breaker(
        dsn: str, tmp_path: Path, clock: FakeClock, processes: FakeProcesses) -> None:
    with started(dsn, tmp_path, clock, processes, breaker_failures=3) as master:
        master.step()
        for death in range(1, 4):
            [pid] = processes.children
            processes.exit(pid, code=1)
            master.step()
            assert restarts(master, StopReason.CRASH) == death
            assert slot(master).last_stop is StopReason.CRASH
            if death < 3:
                assert not processes.children  # not at once: after a backoff
                clock.advance(10)
                master.step()
        assert master.exit_code is ExitCode.BREAKER
        assert master.finished()
        assert slot(master).breaker_tripped == 1


def test_a_worker_over_the_hard_limit_is_killed_and_counted_as_such(
        master: Master, clock: FakeClock, processes: FakeProcesses) -> None:
    master.step()
    [pid] = processes.children
    master.recycler.measure = lambda pid: TreeMemory(rss=300 * MIB, uss=290 * MIB)
    clock.advance(1)
    master.step()
    assert (pid, signal.SIGKILL) in processes.signals
    master.step()
    assert restarts(master, StopReason.MEMORY_HARD) == 1
    assert restarts(master, StopReason.OOM_SUSPECTED) == 0
    assert "over the hard limit" in slot(master).last_exit_reason


def test_a_sigkill_no_one_sent_is_suspected_to_be_the_oom_killer(
        master: Master, processes: FakeProcesses) -> None:
    master.step()
    [pid] = processes.children
    processes.exit(pid, signum=signal.SIGKILL)
    master.step()
    assert restarts(master, StopReason.OOM_SUSPECTED) == 1
    assert slot(master).last_exit_reason == "killed by SIGKILL (perhaps out of memory)"


def test_a_worker_over_the_soft_limit_is_recycled_after_its_job(
        master: Master, clock: FakeClock, processes: FakeProcesses) -> None:
    master.step()
    [pid] = processes.children
    idle(master)
    master.recycler.measure = lambda pid: TreeMemory(rss=150 * MIB, uss=140 * MIB)
    clock.advance(1)
    master.step()
    assert slot(master).command is Command.RECYCLE
    assert (pid, signal.SIGKILL) not in processes.signals
    processes.exit(pid)  # the worker leaves when told
    master.step()
    counted = master.observer.metrics.registry.get_sample_value(
        "ocrmp_worker_recycles_total", {"reason": "memory_soft"})
    assert (restarts(master, StopReason.MEMORY_SOFT), counted) == (1, 1)
    assert slot(master).last_exit_reason.startswith("exit code 0; recycled: memory")
    assert len(processes.children) == 1  # replaced at once: it ended on purpose


def test_a_silent_busy_worker_gets_term_then_kill_after_the_grace(
        master: Master, clock: FakeClock, processes: FakeProcesses) -> None:
    master.step()
    [pid] = processes.children
    slot(master).phase = Phase.BUSY
    slot(master).heartbeat_ns = clock.ns()
    clock.advance(9)
    master.step()
    assert processes.signals == []
    clock.advance(2)
    master.step()
    assert processes.signals == [(pid, signal.SIGTERM)]
    clock.advance(5)
    master.step()
    assert processes.signals[-1] == (pid, signal.SIGKILL)
    master.step()
    assert restarts(master, StopReason.TIMEOUT) == 1
    assert "job timeout: no progress for 11s" in slot(master).last_exit_reason


def test_an_idle_worker_is_handed_one_job_and_its_end_is_counted(
        dsn: str, master: Master, clock: FakeClock) -> None:
    [job_id] = enqueue(dsn, 1, "index")
    master.step()
    idle(master)
    jobs_waiting(master, clock)
    master.step()
    snap = slot(master).snapshot()
    assert snap.pending and (snap.env, snap.kind, snap.attempt) == (
        Environment.DEV, Kind.INDEX, 1)
    assert master.slots[0].job is not None and master.slots[0].job.id == job_id
    master.step()
    assert slot(master).assign_seq == snap.assign_seq  # one job per idle worker, no more
    worker = slot(master)  # the worker takes it, does it, and says so
    worker.taken_seq = snap.assign_seq
    worker.jobs_done = worker.jobs_done + 1
    worker.done_seq = snap.assign_seq
    master.step()
    assert master.slots[0].job is None
    assert master.observer.metrics.registry.get_sample_value(
        "ocrmp_jobs_total", {"env": "dev", "kind": "index", "outcome": "done"}) == 1


def test_a_job_whose_worker_died_is_given_back(dsn: str, master: Master, clock: FakeClock,
                                               processes: FakeProcesses) -> None:
    enqueue(dsn, 1, "acte")
    master.step()
    idle(master)
    jobs_waiting(master, clock)
    master.step()
    assert master.slots[0].job is not None
    [pid] = processes.children
    processes.exit(pid, code=1)
    master.step()
    assert master.slots[0].job is None
    assert master.observer.metrics.registry.get_sample_value(
        "ocrmp_jobs_total", {"env": "dev", "kind": "acte", "outcome": "released"}) == 1
    assert not slot(master).snapshot().pending  # the next worker does not start it
    assert statuses(dsn) == {Status.READY: 1}  # never started: back as it was


def test_term_drains_the_workers_and_the_pool_ends_when_they_are_gone(
        pair: Master, processes: FakeProcesses) -> None:
    pair.step()
    pair.wakeup.signals.append(signal.SIGTERM)
    pair.step()
    assert [slot(pair, i).command for i in range(2)] == [Command.DRAIN] * 2
    assert not pair.finished()
    for pid in sorted(processes.children):
        processes.exit(pid)
    pair.step()
    assert pair.finished() and pair.exit_code is ExitCode.OK
    assert restarts(pair, StopReason.STOP) == 2


def test_a_second_term_releases_now(master: Master, processes: FakeProcesses) -> None:
    master.step()
    [pid] = processes.children
    master.wakeup.signals.extend([signal.SIGTERM, signal.SIGTERM])
    master.step()
    assert (pid, signal.SIGTERM) in processes.signals


def test_ttou_past_the_size_stops_the_last_worker(pair: Master,
                                                  processes: FakeProcesses) -> None:
    pair.step()
    pair.wakeup.signals.append(signal.SIGTTOU)
    pair.step()
    assert (slot(pair, 0).command, slot(pair, 1).command) == (Command.NONE, Command.STOP)
    processes.exit(pair.slots[1].pid)
    pair.step()
    assert restarts(pair, StopReason.SHRINK) == 1
    assert len(processes.children) == 1  # not respawned: the pool is one smaller


def test_a_master_that_shut_down_holds_no_descriptor(dsn: str, tmp_path: Path,
                                                     clock: FakeClock,
                                                     processes: FakeProcesses) -> None:
    """Its doorbells, wake-up pipe and connections close with it (tests make many)."""
    before = set(os.listdir("/proc/self/fd"))
    with started(dsn, tmp_path, clock, processes) as master:
        master.step()
    assert set(os.listdir("/proc/self/fd")) - before == set()


def test_the_heartbeat_is_read_on_the_masters_clock(master: Master, clock: FakeClock) -> None:
    """A heartbeat written a second ago on the same clock is not silence."""
    master.step()
    slot(master).phase = Phase.BUSY
    slot(master).heartbeat_ns = clock.ns() - SECOND
    master.step()
    assert master.slots[0].killed is None


# -- follow-on jobs: a worker's completion claims its next job ------------------------------


def handed(dsn: str, master: Master, clock: FakeClock, n: int = 1,
           kind: str = "index") -> tuple[Job, JobStore]:
    """n jobs waiting, the first handed over and taken; a store for the worker's side."""
    enqueue(dsn, n, kind)
    master.step()
    idle(master)
    jobs_waiting(master, clock)
    master.step()
    job = master.slots[0].job
    assert job is not None
    slot(master).taken_seq = slot(master).assign_seq
    return job, JobStore(dsn)


def complete_and_claim(master: Master, store: JobStore, job: Job) -> Job | None:
    """What the worker does when its master allows a follow-on: one statement."""
    worker = slot(master)
    assert worker.jobs_done + 1 < worker.follow_until
    follow = store.complete_and_claim(job.ref, "text", {"engine": "fake"}, 1,
                                      kind=worker.follow_kind, lease_s=60.0)
    worker.jobs_done = worker.jobs_done + 1
    return follow


def announce(master: Master, job: Job) -> None:
    """... and then: the follow-on job written into its slot."""
    worker = slot(master)
    worker.follow_job = follow_to_text(job, counts(worker))
    worker.follow_seq = worker.follow_seq + 1


def test_a_busy_worker_claims_its_next_job_with_its_completion(
        dsn: str, master: Master, clock: FakeClock) -> None:
    first, store = handed(dsn, master, clock, 2)
    assert slot(master).follow_kind is Kind.INDEX
    follow = complete_and_claim(master, store, first)
    assert follow is not None and follow.worker_id == first.worker_id
    slot(master).done_seq = slot(master).assign_seq
    announce(master, follow)
    master.step()
    assert master.slots[0].job == follow
    assert slot(master).follow_ack == slot(master).follow_seq  # noted: it may claim again
    assert statuses(dsn) == {Status.DONE: 1, Status.RUNNING: 1}
    assert complete_and_claim(master, store, follow) is None  # none left: it goes idle
    slot(master).follow_done = slot(master).follow_seq
    master.step()
    assert master.slots[0].job is None
    assert master.observer.metrics.registry.get_sample_value(
        "ocrmp_jobs_total", {"env": "dev", "kind": "index", "outcome": "done"}) == 2
    assert master.observer.metrics.registry.get_sample_value(
        "ocrmp_jobs_claimed_total", {"env": "dev", "kind": "index"}) == 2
    store.close()


def test_no_follow_on_for_a_worker_told_to_leave_or_under_a_jobs_rate_limit(
        dsn: str, tmp_path: Path, clock: FakeClock, processes: FakeProcesses) -> None:
    with started(dsn, tmp_path, clock, processes, size=2) as pair:
        pair.step()
        idle(pair, 0)
        idle(pair, 1)
        pair.step()
        assert slot(pair, 0).follow_until > 0 and slot(pair, 1).follow_until > 0
        pair.wakeup.signals.append(signal.SIGTTOU)  # the second worker is to stop
        pair.step()
        assert (slot(pair, 0).follow_until > 0, slot(pair, 1).follow_until) == (True, 0)
    with started(dsn, tmp_path, clock, processes, rate_limits=("dev=100/min",)) as limited:
        limited.step()
        idle(limited)
        limited.step()
        assert slot(limited).follow_until == 0


def test_no_follow_on_under_memory_pressure(dsn: str, tmp_path: Path, clock: FakeClock,
                                            processes: FakeProcesses) -> None:
    with started(dsn, tmp_path, clock, processes, memory_reserve=0.1) as master:
        master.step()
        idle(master)
        master.step()
        assert slot(master).follow_until > 0
        master.recycler.host = lambda: HostMemory(available=1 << 30, total=16 << 30)
        clock.advance(1)
        master.step()
        assert slot(master).follow_until == 0


def test_a_follow_on_claimed_by_a_worker_that_died_before_telling_is_given_back(
        dsn: str, master: Master, clock: FakeClock, processes: FakeProcesses) -> None:
    first, store = handed(dsn, master, clock, 2)
    follow = complete_and_claim(master, store, first)
    assert follow is not None
    slot(master).done_seq = slot(master).assign_seq
    [pid] = processes.children
    processes.exit(pid, signum=signal.SIGKILL)  # before writing it into its slot
    master.step()
    assert statuses(dsn) == {Status.DONE: 1, Status.READY: 1}
    assert row(dsn, follow.id)["ocr_attempts"] == 0  # never started: attempt undone
    store.close()


def test_a_follow_on_whose_worker_died_on_it_is_released_with_its_attempt(
        dsn: str, master: Master, clock: FakeClock, processes: FakeProcesses) -> None:
    first, store = handed(dsn, master, clock, 2)
    follow = complete_and_claim(master, store, first)
    assert follow is not None
    slot(master).done_seq = slot(master).assign_seq
    announce(master, follow)
    [pid] = processes.children
    processes.exit(pid, code=1)  # the master had not looked yet
    master.step()
    assert master.slots[0].job is None
    assert statuses(dsn) == {Status.DONE: 1, Status.READY: 1}
    assert row(dsn, follow.id)["ocr_attempts"] == 1  # it ran: the attempt counts
    assert master.observer.metrics.registry.get_sample_value(
        "ocrmp_jobs_total", {"env": "dev", "kind": "index", "outcome": "released"}) == 1
    assert not slot(master).snapshot().following  # the next worker does not start it
    store.close()
