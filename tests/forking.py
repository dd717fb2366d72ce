"""Running a function in a forked child and collecting its exit, for tests across processes."""

from __future__ import annotations

import os
from collections.abc import Callable


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
