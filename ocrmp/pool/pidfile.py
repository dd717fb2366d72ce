"""The pool's pidfile: a locked file that names the running master.

The lock (not the file's presence) says whether a master runs, so a pidfile left by a
killed master never blocks a new one.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

from ocrmp.errors import PoolError


class AlreadyRunning(PoolError):
    """Another master already runs this pool."""


def pidfile_path(run_dir: Path, pool_name: str) -> Path:
    return run_dir / f"{pool_name}.pid"


class Pidfile:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None

    def acquire(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            pid = read_pid(self.path)
            raise AlreadyRunning(f"pool already running (master pid {pid}, pidfile {self.path}); "
                                 "use `ocrmp stop` or another --pool-name") from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        os.set_inheritable(fd, False)
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            try:
                self.path.unlink(missing_ok=True)
            finally:
                os.close(self._fd)
                self._fd = None


def read_pid(path: Path) -> int | None:
    try:
        return int(path.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def running_master(path: Path) -> int | None:
    """The pid of the master holding this pidfile's lock, or None when none runs."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return read_pid(path)
    else:
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    finally:
        os.close(fd)
