"""Pure-Python atomics: the fallback when the C extension `ocrmp._atomics` is not built.

Python has no atomic access to shared memory, and a per-process lock cannot order a master
against its forked workers or against an unrelated `ocrmp status`. So every operation takes
a POSIX byte-range lock (`fcntl.lockf`) on one lock file under /dev/shm that all processes
of this user open. The lock is striped by word offset so unrelated words rarely contend;
two segments with a word at the same offset share a stripe, which costs speed, not
correctness. POSIX locks belong to a process, not a thread, so a thread lock per stripe
serialises the threads of one process as well.

Limits: slower than the C extension (two system calls per operation); never mix the two
implementations on the same memory; do not call these functions from a signal handler
(the thread lock is not re-entrant).
"""

from __future__ import annotations

import fcntl
import os
import stat
import struct
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from ocrmp.errors import PoolError

_WORD = struct.Struct("=q")
_STRIPES = 1024
_MASK = (1 << 64) - 1
_SIGN = 1 << 63


class _LockFile:
    """The shared lock file and this process's thread locks, reopened after fork."""

    def __init__(self) -> None:
        self.pid = -1
        self.fd = -1
        self.threads: list[threading.Lock] = []
        self.guard = threading.Lock()
        # A child forked while another thread held the guard would wait on it forever.
        os.register_at_fork(after_in_child=self._new_guard)

    def _new_guard(self) -> None:
        self.guard = threading.Lock()

    def ensure(self) -> None:
        if self.pid == os.getpid():
            return
        with self.guard:
            if self.pid != os.getpid():
                self._reopen()

    def _reopen(self) -> None:
        # A forked child must not rely on thread locks that another thread of its parent
        # held at fork time, so it takes fresh ones and its own descriptor (closing the
        # inherited one releases nothing: POSIX locks belong to the process holding them).
        if self.fd >= 0:
            os.close(self.fd)
        fd = open_lock_file(_lock_path())
        self.threads = [threading.Lock() for _ in range(_STRIPES)]
        self.fd = fd
        self.pid = os.getpid()


def open_lock_file(path: str) -> int:
    """The lock file, never through a link and only if it is this user's own: one another
    local user made first (in /dev/shm, where anyone may) is refused, saying whose."""
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
    except OSError as error:
        raise PoolError(f"{path}: cannot open the atomics' lock file ({error.strerror});"
                              " remove what is there, or build the C extension") from None
    info = os.fstat(fd)
    if info.st_uid != os.geteuid() or not stat.S_ISREG(info.st_mode):
        os.close(fd)
        raise PoolError(f"{path}: the atomics' lock file belongs to uid {info.st_uid}, "
                              "not to this user; remove it (as root), or build the C "
                              "extension")
    return fd


def _lock_path() -> str:
    directory = "/dev/shm" if os.path.isdir("/dev/shm") else tempfile.gettempdir()
    return os.path.join(directory, f"ocrmp-atomics-{os.getuid()}.lock")


_LOCKS = _LockFile()


@contextmanager
def _locked(offset: int) -> Iterator[None]:
    _LOCKS.ensure()
    stripe = (offset // 8) % _STRIPES
    with _LOCKS.threads[stripe]:
        fcntl.lockf(_LOCKS.fd, fcntl.LOCK_EX, 1, stripe)
        try:
            yield
        finally:
            fcntl.lockf(_LOCKS.fd, fcntl.LOCK_UN, 1, stripe)


def _view(buf: Any, offset: int, writable: bool) -> memoryview:
    """Check the word's place with the same errors as the C extension."""
    view = buf if isinstance(buf, memoryview) else memoryview(buf)
    if writable and view.readonly:
        raise TypeError("atomics: the buffer is read-only")
    if not isinstance(offset, int):
        raise TypeError(f"atomics: offset must be an int, not {type(offset).__name__}")
    if offset < 0 or offset > view.nbytes - 8:
        raise IndexError(
            f"atomics: offset {offset} out of bounds for a buffer of {view.nbytes} bytes")
    if offset % 8:
        raise ValueError(f"atomics: offset {offset} is not 8-byte aligned")
    return view


def _int64(value: int) -> int:
    if not -_SIGN <= value < _SIGN:
        raise OverflowError("int too big to convert")
    return value


def _wrap(value: int) -> int:
    value &= _MASK
    return value - (1 << 64) if value & _SIGN else value


def load(buf: Any, offset: int) -> int:
    """Read the signed 64-bit word at offset."""
    view = _view(buf, offset, writable=False)
    with _locked(offset):
        return int(_WORD.unpack_from(view, offset)[0])


def store(buf: Any, offset: int, value: int) -> None:
    """Write the signed 64-bit word at offset."""
    value = _int64(value)
    view = _view(buf, offset, writable=True)
    with _locked(offset):
        _WORD.pack_into(view, offset, value)


def cas(buf: Any, offset: int, expected: int, new: int) -> bool:
    """Replace the word with new if it equals expected; True when replaced."""
    expected, new = _int64(expected), _int64(new)
    view = _view(buf, offset, writable=True)
    with _locked(offset):
        if _WORD.unpack_from(view, offset)[0] != expected:
            return False
        _WORD.pack_into(view, offset, new)
        return True


def fetch_add(buf: Any, offset: int, delta: int) -> int:
    """Add delta to the word (wrapping) and return its previous value."""
    delta = _int64(delta)
    view = _view(buf, offset, writable=True)
    with _locked(offset):
        previous = int(_WORD.unpack_from(view, offset)[0])
        _WORD.pack_into(view, offset, _wrap(previous + delta))
        return previous
