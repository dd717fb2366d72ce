"""The master's loop, pass by pass, on a fake clock and with fake processes (the queue and
the slot table are real): what it spawns, kills, recycles and hands out, and why it says
a worker ended."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest

from ocrmp.exitcodes import ExitCode
from ocrmp.pool.master import Master
from ocrmp.pool.memory import TreeMemory
from ocrmp.pool.slots import Command, Phase
from ocrmp.vocabulary import Environment, Kind, Status, StopReason
from tests.clock import SECOND, FakeClock
from tests.forking import FakeProcesses
from tests.masters import (
    MIB,
    idle,
    jobs_waiting,
    restarts,
    slot,
    started,
)
from tests.poolrun import enqueue, row, statuses

pytestmark = pytest.mark.pool  # make test runs these again with the pure atomics


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


def broken(*args: object, **kwargs: object) -> None:
    raise RuntimeError("a bug no test foresaw")


def test_an_unforeseen_error_handing_a_job_over_fails_that_job_not_the_pool(
        dsn: str, master: Master, clock: FakeClock, monkeypatch: pytest.MonkeyPatch) -> None:
    [job_id] = enqueue(dsn, 1, "acte")
    master.step()
    idle(master)
    jobs_waiting(master, clock)
    monkeypatch.setattr(master.observer, "handed_over", broken)
    master.step()
    assert master.slots[0].job is None
    released = row(dsn, job_id)
    assert (released["status_id"], released["ocr_attempts"]) == (Status.READY, 1)  # counted


def test_an_unforeseen_error_in_a_pass_ends_that_pass_only(
        master: Master, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(master.observer, "publish", broken)
    master.one_pass()
    master.one_pass()
    assert master.dispatcher.containment.count == 2
    assert not master.stopping
