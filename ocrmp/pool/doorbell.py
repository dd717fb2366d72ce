"""Doorbells: wake a process blocked in a poll instead of letting it spin on the slot table.

A doorbell is a pipe created before fork. Ringing writes one byte without blocking; rings
coalesce, because a full pipe already means "look again", so an EAGAIN is fine. Waiting
polls the read end and drains it. The slot table holds the facts; a ring only says "read
it now". The master has one doorbell every worker rings; each slot has one the master
rings after writing an assignment or a command. Both ends are O_CLOEXEC so the pipes do not
leak into tesseract or other programs a worker runs.

After fork, each side closes the ends it does not use (`close_reader()`, `close_writer()`,
or `Doorbells.keep_for_worker()`). The side that waits keeps its own write end: the master
rings itself from signal handlers (os.write is async-signal-safe; or pass
`master.writer_fd` to `signal.set_wakeup_fd`), and its slot pipes outlive each worker.
"""

from __future__ import annotations

import os
import select
from collections.abc import Iterator
from contextlib import suppress

_DRAIN_CHUNK = 4096


class Doorbell:
    """One pipe: `ring()` on one side, `wait()` or a selector on `fileno()` on the other."""

    def __init__(self) -> None:
        self.reader_fd, self.writer_fd = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
        self.hung_up = False  # set once no process holds the write end any more

    def fileno(self) -> int:
        """The read end, for `selectors`/`select`; readable when rung."""
        if self.reader_fd < 0:
            raise ValueError("this doorbell's read end is closed in this process")
        return self.reader_fd

    def ring(self) -> bool:
        """Wake the waiter; False when nobody can hear it any more (reader closed)."""
        if self.writer_fd < 0:
            raise ValueError("this doorbell's write end is closed in this process")
        try:
            os.write(self.writer_fd, b"\x01")
        except BlockingIOError:
            return True  # the pipe is full: the waiter will wake anyway
        except BrokenPipeError:
            return False
        return True

    def wait(self, timeout: float | None) -> bool:
        """Block until rung or timeout seconds pass (None: forever); True when rung.

        Drains every pending ring, so several rings before one wait wake it once. Also
        True once every write end is closed (see `hung_up`).
        """
        poller = select.poll()
        poller.register(self.fileno(), select.POLLIN)
        millis = None if timeout is None else max(0, round(timeout * 1000))
        if not poller.poll(millis):
            return False
        return self.drain()

    def drain(self) -> bool:
        """Consume pending rings without blocking; True when there were any."""
        rung = False
        while True:
            try:
                data = os.read(self.fileno(), _DRAIN_CHUNK)
            except BlockingIOError:
                return rung
            if not data:
                # Every writer closed (the master died, say): report a ring so the waiter
                # looks at the facts instead of returning at once from every poll.
                self.hung_up = True
                return True
            rung = True

    def close_reader(self) -> None:
        """Close the read end in this process (the side that only rings)."""
        if self.reader_fd >= 0:
            os.close(self.reader_fd)
            self.reader_fd = -1

    def close_writer(self) -> None:
        """Close the write end in this process (the side that only waits)."""
        if self.writer_fd >= 0:
            os.close(self.writer_fd)
            self.writer_fd = -1

    def close(self) -> None:
        self.close_reader()
        self.close_writer()


class Doorbells:
    """The master's doorbell and one per slot, all created before the first fork."""

    def __init__(self, nslots: int) -> None:
        self.master = Doorbell()
        self._slots: list[Doorbell] = []
        try:
            for _ in range(nslots):
                self._slots.append(Doorbell())
        except OSError:
            self.close()  # out of descriptors: do not leak the ones we got
            raise

    def __len__(self) -> int:
        return len(self._slots)

    def __iter__(self) -> Iterator[Doorbell]:
        return iter(self._slots)

    def slot(self, index: int) -> Doorbell:
        return self._slots[index]

    def keep_for_worker(self, index: int) -> tuple[Doorbell, Doorbell]:
        """In a freshly forked worker: close every end it must not hold.

        Returns (master doorbell to ring, own doorbell to wait on). The master keeps all
        its ends so each slot's pipe outlives the workers that come and go in it.
        """
        self.master.close_reader()
        for i, bell in enumerate(self._slots):
            if i == index:
                bell.close_writer()
            else:
                bell.close()
        return self.master, self._slots[index]

    def close(self) -> None:
        for bell in [self.master, *self._slots]:
            with suppress(OSError):
                bell.close()
