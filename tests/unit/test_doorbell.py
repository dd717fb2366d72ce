"""Doorbells: pipes that wake the master and the workers, in one process and across fork."""

from __future__ import annotations

import functools
import os
import selectors
from collections.abc import Iterator

import pytest

from ocrmp.pool.doorbell import Doorbell, Doorbells
from tests.forking import fork, join

# Long enough never to fire on a loaded machine; only there so a bug fails instead of hanging.
NO_HANG = 60.0


@pytest.fixture
def bell() -> Iterator[Doorbell]:
    created = Doorbell()
    yield created
    created.close()


def test_ring_then_wait_drains(bell: Doorbell) -> None:
    assert bell.ring()
    assert bell.wait(0)
    assert not bell.wait(0)


def test_rings_coalesce_into_one_wake_up(bell: Doorbell) -> None:
    for _ in range(1000):
        bell.ring()
    assert bell.wait(0)
    assert not bell.wait(0)


def test_a_full_pipe_is_fine(bell: Doorbell) -> None:
    assert all(bell.ring() for _ in range(200_000))  # far beyond a pipe's 64 KiB
    assert bell.wait(0)
    assert not bell.wait(0)


def test_wait_times_out_when_nobody_rings(bell: Doorbell) -> None:
    assert not bell.wait(0.01)


def test_fileno_works_with_selectors(bell: Doorbell) -> None:
    with selectors.DefaultSelector() as selector:
        selector.register(bell, selectors.EVENT_READ)
        assert selector.select(0) == []
        bell.ring()
        assert [key.fileobj for key, _ in selector.select(0)] == [bell]
    assert bell.drain()


def test_ringing_a_bell_nobody_can_hear(bell: Doorbell) -> None:
    bell.close_reader()
    assert not bell.ring()
    with pytest.raises(ValueError, match="read end is closed"):
        bell.wait(0)


def test_wait_wakes_when_every_writer_is_gone(bell: Doorbell) -> None:
    bell.close_writer()
    assert bell.wait(NO_HANG)
    assert bell.hung_up
    with pytest.raises(ValueError, match="write end is closed"):
        bell.ring()


def test_closing_twice_is_harmless(bell: Doorbell) -> None:
    """The second close touches no descriptor: not even one the kernel has handed out again
    under the same number since the first."""
    reused_r, reused_w = bell.reader_fd, bell.writer_fd
    other_r, other_w = os.pipe()  # while the bell is open: other numbers than its own
    bell.close()
    os.dup2(other_r, reused_r)  # another file under the numbers the bell just freed
    os.dup2(other_w, reused_w)
    os.close(other_r)
    os.close(other_w)
    try:
        bell.close()
        os.fstat(reused_r), os.fstat(reused_w)  # still open
        os.write(reused_w, b"x")
        assert os.read(reused_r, 1) == b"x"
    finally:
        os.close(reused_r)
        os.close(reused_w)
    assert bell.reader_fd == bell.writer_fd == -1
    with pytest.raises(ValueError, match="write end is closed"):
        bell.ring()


def test_master_and_worker_ring_each_other_across_fork() -> None:
    bells = Doorbells(3)

    def worker() -> None:
        master, own = bells.keep_for_worker(1)
        assert bells.slot(0).reader_fd == bells.slot(0).writer_fd == -1
        assert master.reader_fd == own.writer_fd == -1
        for _ in range(3):  # one assignment per ring, then report back
            assert own.wait(NO_HANG)
            assert master.ring()

    pid = fork(worker)
    try:
        for _ in range(3):
            assert bells.slot(1).ring()
            assert bells.master.wait(NO_HANG)
    finally:
        assert join(pid) == 0
    # The worker's closing touched only its own copies of the descriptors.
    assert bells.slot(0).ring() and bells.slot(0).wait(0)
    bells.close()


def test_many_workers_ringing_the_master_at_once() -> None:
    bells = Doorbells(4)

    def worker(index: int) -> None:
        master, _ = bells.keep_for_worker(index)
        for _ in range(10_000):
            master.ring()

    pids = [fork(functools.partial(worker, i)) for i in range(4)]
    assert all(join(pid) == 0 for pid in pids)
    assert bells.master.wait(0)
    assert not bells.master.wait(0)
    bells.close()


def test_doorbells_for_a_pool() -> None:
    bells = Doorbells(2)
    assert len(bells) == 2
    assert [b.fileno() for b in bells] == [bells.slot(0).fileno(), bells.slot(1).fileno()]
    bells.close()
