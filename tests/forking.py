"""Running a function in a forked child and collecting its exit, for tests across processes;
and the master's process calls faked, for tests of its loop without forking."""

from __future__ import annotations

import os
import signal
from collections.abc import Callable

from ocrmp.pool.workerslot import Processes


def fork(body: Callable[[], None]) -> int:
    """Run body in a child; the child exits 0 if it returned, 1 if it raised."""
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            body()
            code = 0
        finally:
            os._exit(code)
    return pid


def join(pid: int) -> int:
    return os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])


class FakeProcesses:
    """`ocrmp.pool.workerslot.Processes` without processes: fork hands out pids no process
    has, signals are recorded, and a child "exits" when the test says so (or at SIGKILL,
    and at SIGTERM when `die_on_term`). waitpid then reports it, as the kernel would."""

    FIRST_PID = 1 << 30  # above any pid_max: never a real process

    def __init__(self, *, die_on_term: bool = False) -> None:
        self.die_on_term = die_on_term
        self.next_pid = self.FIRST_PID
        self.children: set[int] = set()
        self.exits: list[tuple[int, int]] = []
        self.signals: list[tuple[int, int]] = []

    def fork(self) -> int:
        self.next_pid += 1
        self.children.add(self.next_pid)
        return self.next_pid

    def exit(self, pid: int, code: int = 0, *, signum: int = 0) -> None:
        """The child ends: with a code, or killed by a signal."""
        if pid in self.children:
            self.children.discard(pid)
            self.exits.append((pid, signum if signum else code << 8))

    def waitpid(self, pid: int, options: int) -> tuple[int, int]:
        if self.exits:
            return self.exits.pop(0)
        if not self.children:
            raise ChildProcessError
        return 0, 0

    def killpg(self, pgid: int, signum: int) -> None:
        if pgid not in self.children:
            raise ProcessLookupError(pgid)
        self.signals.append((pgid, signum))
        if signum == signal.SIGKILL or (signum == signal.SIGTERM and self.die_on_term):
            self.exit(pgid, signum=signum)

    def kill(self, pid: int, signum: int) -> None:
        self.signals.append((pid, signum))

    def setpgid(self, pid: int, pgid: int) -> None:
        pass

    def calls(self) -> Processes:
        return Processes(fork=self.fork, waitpid=self.waitpid, killpg=self.killpg,
                         kill=self.kill, setpgid=self.setpgid)
