"""Run one call in a forked child with a deadline and a memory cap, and take its result.

pdfium cannot be interrupted: a page of a million strokes renders for minutes and its
content alone can take gigabytes. So a page is read in a child forked for it (fork, not
spawn: the child shares the parent's loaded libraries and costs a few milliseconds),
which is killed at the deadline and whose address space is capped, so running out of
memory kills the child, never the worker. The result, or the exception the call raised,
comes back pickled through a pipe.
"""

from __future__ import annotations

import contextlib
import ctypes
import faulthandler
import os
import pickle
import resource
import select
import signal
import time
import warnings
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")

_PR_SET_PDEATHSIG = 1
_CHUNK = 1 << 20


class TimedOut(Exception):
    """The child was still running at the deadline and was killed."""


class Died(Exception):
    """The child ended without a result: killed by a signal (its memory cap makes an
    allocator abort) or exited early. The argument says how."""


def run_bounded(call: Callable[[], T], *, timeout_s: float, memory_bytes: int) -> T:
    """`call()` in a child: its result, or the exception it raised, raised here."""
    read_fd, write_fd = os.pipe()
    with warnings.catch_warnings():
        # The child runs only `call` and exits without touching another thread's locks.
        warnings.simplefilter("ignore", DeprecationWarning)
        pid = os.fork()
    if pid == 0:  # pragma: no cover - the child; its outcome is checked by the parent
        os.close(read_fd)
        _child(call, write_fd, memory_bytes)
    os.close(write_fd)
    try:
        payload = _read_until(read_fd, time.monotonic() + timeout_s)
    except TimedOut:
        _kill(pid)
        raise
    finally:
        os.close(read_fd)
    status = _reap(pid)
    if status != 0 or not payload:
        raise Died(_how(status))
    outcome = pickle.loads(payload)
    if isinstance(outcome, BaseException):
        raise outcome
    return outcome


def _child(call: Callable[[], object], write_fd: int, memory_bytes: int) -> None:
    code = 0
    try:
        _die_with_parent()
        faulthandler.disable()  # an abort at the cap is an outcome the parent reports
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides what ^C means
        _cap_memory(memory_bytes)
        try:
            outcome: object = call()
        except MemoryError:
            outcome = Died("out of memory")
        except Exception as error:  # handed to the parent, which raises it
            outcome = error
        data = _pickle(outcome)
        with os.fdopen(write_fd, "wb") as pipe:
            pipe.write(data)
    except BaseException:
        code = 1
    finally:
        os._exit(code)


def _pickle(outcome: object) -> bytes:
    try:
        return pickle.dumps(outcome, protocol=pickle.HIGHEST_PROTOCOL)
    except Exception as error:  # an exception that does not pickle: send its words
        return pickle.dumps(RuntimeError(f"{type(outcome).__name__}: {outcome} ({error})"))


def _cap_memory(memory_bytes: int) -> None:
    """Allow the child `memory_bytes` of address space beyond what it inherited."""
    limit = _address_space() + memory_bytes
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    with contextlib.suppress(ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_AS, (limit, hard))


def _address_space() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")


def _die_with_parent() -> None:
    # A worker killed for memory or time must not leave its renderer running.
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)


def _read_until(fd: int, deadline: float) -> bytes:
    chunks: list[bytes] = []
    while True:
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([fd], [], [], left)[0]:
            raise TimedOut()
        chunk = os.read(fd, _CHUNK)
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)


def _kill(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
    _reap(pid)


def _reap(pid: int) -> int:
    try:
        return os.waitpid(pid, 0)[1]
    except ChildProcessError:  # reaped elsewhere (a SIGCHLD handler): nothing to say
        return 0


def _how(status: int) -> str:
    if os.WIFSIGNALED(status):
        signum = os.WTERMSIG(status)
        return f"killed by {signal.Signals(signum).name}"
    return f"exit {os.waitstatus_to_exitcode(status)} without a result"
