"""The pool's pidfile: a locked file that names the running master.

The lock (not the file's presence) says whether a master runs, so a pidfile left by a
killed master never blocks a new one. Before a signal is sent, the pid must be proven to be
the master: the process holding the lock (the kernel's /proc/locks says who) and running
`ocrmp run` for this pool, so a planted pidfile cannot aim a signal at another process.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

from ocrmp.errors import PoolError
from ocrmp.rundir import open_no_follow, private_run_dir


class AlreadyRunning(PoolError):
    """Another master already runs this pool."""


class NotTheMaster(PoolError):
    """The pidfile's lock is held by a process that is not this pool's master."""


def pidfile_path(run_dir: Path, pool_name: str) -> Path:
    return run_dir / f"{pool_name}.pid"


class Pidfile:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None

    def acquire(self) -> None:
        private_run_dir(self.path.parent)
        fd = open_no_follow(self.path, os.O_RDWR | os.O_CREAT)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            pid = _pid_in(fd)
            os.close(fd)
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


def _pid_in(fd: int) -> int | None:
    try:
        return int(os.pread(fd, 64, 0).split()[0])
    except (OSError, ValueError, IndexError):
        return None


def _locked_pid(path: Path) -> tuple[int, os.stat_result] | None:
    """The pid the pidfile names and the file's identity, when its lock is held."""
    try:
        fd = open_no_follow(path, os.O_RDONLY)
    except FileNotFoundError:
        return None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return _pid_in(fd) or 0, os.fstat(fd)
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    finally:
        os.close(fd)


def running_master(path: Path) -> int | None:
    """The pid the pidfile names while its lock is held, or None when none runs. Enough to
    show or wait for a pool; before signalling it, use proven_master."""
    locked = _locked_pid(path)
    return None if locked is None else locked[0]


def flock_holders(locks: str, major: int, minor: int, inode: int) -> set[int]:
    """The pids holding a flock on the file (major:minor:inode), read from /proc/locks."""
    wanted = f"{major:02x}:{minor:02x}:{inode}"
    holders = set()
    for line in locks.splitlines():
        fields = line.split()
        # "1: FLOCK  ADVISORY  WRITE 9538 fe:00:2150239 0 EOF"; waiters have a "->" field.
        if len(fields) >= 6 and fields[1] == "FLOCK" and fields[5] == wanted:
            holders.add(int(fields[4]))
    return holders


def is_master_command(argv: list[str], pool_name: str) -> bool:
    """Is this command line `ocrmp run` (console script or `-m ocrmp`) for this pool? A
    master given its pool name by the environment or a config file shows none here."""
    for index, arg in enumerate(argv[:-1]):
        if os.path.basename(arg) == "ocrmp" and argv[index + 1] == "run":
            return _named_pool(argv[index + 2:]) in (None, pool_name)
    return False


def _named_pool(args: list[str]) -> str | None:
    for index, arg in enumerate(args):
        if arg == "--pool-name" and index + 1 < len(args):
            return args[index + 1]
        if arg.startswith("--pool-name="):
            return arg.partition("=")[2]
    return None


def proven_master(path: Path, pool_name: str) -> int | None:
    """The master's pid, proven as the module says; None when no master runs, NotTheMaster
    when the lock is held by something else (then nothing must be signalled)."""
    locked = _locked_pid(path)
    if locked is None:
        return None
    pid, identity = locked
    holders = flock_holders(Path("/proc/locks").read_text(), os.major(identity.st_dev),
                            os.minor(identity.st_dev), identity.st_ino)
    if pid not in holders:
        raise NotTheMaster(f"{path} names pid {pid}, but its lock is held by "
                           f"{_pids(holders)}: not signalling anything")
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace").split("\0")
        owner = os.stat(f"/proc/{pid}").st_uid
        name = Path(f"/proc/{pid}/comm").read_text().strip()
    except FileNotFoundError:
        return None  # exited meanwhile
    if owner != os.geteuid() or not is_master_command(argv, pool_name):
        raise NotTheMaster(f"pid {pid} holding {path} is not the master of pool {pool_name!r} "
                           f"(it is {name!r}, uid {owner}): not signalling it")
    return pid


def _pids(pids: set[int]) -> str:
    return ", ".join(f"pid {pid}" for pid in sorted(pids)) or "no visible process"
