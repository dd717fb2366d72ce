"""Follow-on jobs, pass by pass (as in test_master): a worker's completion claims its next
job in the same statement when its master allows it; the master notes each one, and gives
back what a worker that died held, whether it had said so or not."""

from __future__ import annotations

import signal
from pathlib import Path

import pytest

from ocrmp.pool.master import Master
from ocrmp.pool.memory import HostMemory
from ocrmp.pool.worker import counts, follow_to_text, may_follow
from ocrmp.store import Job, JobStore
from ocrmp.vocabulary import Kind, Status
from tests.clock import FakeClock
from tests.forking import FakeProcesses
from tests.masters import idle, jobs_waiting, slot, started
from tests.poolrun import enqueue, row, statuses

pytestmark = pytest.mark.pool  # make test runs these again with the pure atomics


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
    worker.follow_on(follow_to_text(job, counts(worker)))


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


def test_follow_on_jobs_the_master_had_not_looked_at_are_noted_in_order(
        dsn: str, master: Master, clock: FakeClock) -> None:
    job, store = handed(dsn, master, clock, 4)
    slot(master).done_seq = slot(master).assign_seq
    claimed = []
    for _ in range(3):  # three follow-ons before the master's next pass
        follow = complete_and_claim(master, store, job)
        assert follow is not None
        announce(master, follow)
        claimed.append(follow)
        job = follow
    slot(master).follow_done = slot(master).follow_seq - 1  # working on the third
    master.step()
    assert master.slots[0].job == claimed[-1]
    assert slot(master).follow_ack == slot(master).follow_seq
    assert master.observer.metrics.registry.get_sample_value(
        "ocrmp_jobs_total", {"env": "dev", "kind": "index", "outcome": "done"}) == 3
    assert statuses(dsn) == {Status.DONE: 3, Status.RUNNING: 1}
    store.close()


def test_no_follow_on_for_a_worker_told_to_leave(pair: Master) -> None:
    pair.step()
    idle(pair, 0)
    idle(pair, 1)
    pair.step()
    assert slot(pair, 0).follow_until > 0 and slot(pair, 1).follow_until > 0
    pair.wakeup.signals.append(signal.SIGTTOU)  # the second worker is to stop
    pair.step()
    assert (slot(pair, 0).follow_until > 0, slot(pair, 1).follow_until) == (True, 0)
    assert not may_follow(slot(pair, 1))


def test_no_follow_on_under_a_jobs_rate_limit(dsn: str, tmp_path: Path, clock: FakeClock,
                                              processes: FakeProcesses) -> None:
    with started(dsn, tmp_path, clock, processes, rate_limits=("dev=100/min",)) as limited:
        limited.step()
        idle(limited)
        limited.step()
        assert slot(limited).follow_until == 0  # the master charges every claim
    with started(dsn, tmp_path, clock, processes, rate_limits=("dev=100/min:pages",)) as paged:
        paged.step()
        idle(paged)
        paged.step()
        assert slot(paged).follow_until > 0  # pages are charged as they are read


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


def followed(dsn: str, master: Master, clock: FakeClock) -> tuple[Job, JobStore]:
    """A first job handed over and completed with a follow-on claim: the follow-on."""
    first, store = handed(dsn, master, clock, 2)
    follow = complete_and_claim(master, store, first)
    assert follow is not None
    slot(master).done_seq = slot(master).assign_seq
    return follow, store


def test_a_follow_on_claimed_by_a_worker_that_died_before_telling_is_given_back(
        dsn: str, master: Master, clock: FakeClock, processes: FakeProcesses) -> None:
    follow, store = followed(dsn, master, clock)
    [pid] = processes.children
    processes.exit(pid, signum=signal.SIGKILL)  # before writing it into its slot
    master.step()
    assert statuses(dsn) == {Status.DONE: 1, Status.READY: 1}
    assert row(dsn, follow.id)["ocr_attempts"] == 0  # never started: attempt undone
    store.close()


def test_a_follow_on_whose_worker_died_on_it_is_released_with_its_attempt(
        dsn: str, master: Master, clock: FakeClock, processes: FakeProcesses) -> None:
    follow, store = followed(dsn, master, clock)
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
