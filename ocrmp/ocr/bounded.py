"""Run one call in a forked child with a deadline and a memory cap, and take its result.

pdfium cannot be interrupted: a page of a million strokes renders for minutes and its
content alone can take gigabytes. So a page is read in a child forked for it (fork, not
spawn: the child shares the parent's loaded libraries and costs a few milliseconds),
which is killed at the deadline and whose address space is capped, so running out of
memory kills the child, never the worker. The result, or the exception the call raised,
comes back pickled in a memory file.
"""

from __future__ import annotations

import contextlib
import faulthandler
import os
import pickle
import resource
import select
import signal
import struct
import time
import warnings
from collections.abc import Callable
from typing import TypeVar, cast

from ocrmp import lifetime

T = TypeVar("T")

class TimedOut(Exception):
    """The child was still running at the deadline and was killed."""


class Died(Exception):
    """The child ended without a result: killed by a signal (its memory cap makes an
    allocator abort) or exited early. The argument says how."""


def run_bounded(call: Callable[[], T], *, timeout_s: float, memory_bytes: int) -> T:
    """`call()` in a child: its result, or the exception it raised, raised here."""
    # The outcome is written to a memory file, read once the child has exited: a page's
    # pixels through a pipe would take a context switch per 64 KB, slow on a busy host.
    # The pipe only tells, by closing, that the child is gone.
    lifetime.prepare()  # libc found here once, not in every child
    out_fd = os.memfd_create("ocrmp-page", os.MFD_CLOEXEC)
    read_fd, write_fd = os.pipe()
    try:
        with warnings.catch_warnings():
            # The child runs only `call` and exits without touching another thread's locks.
            warnings.simplefilter("ignore", DeprecationWarning)
            pid = os.fork()
        if pid == 0:  # pragma: no cover - the child; its outcome is checked by the parent
            os.close(read_fd)
            _child(call, out_fd, memory_bytes)
        os.close(write_fd)
        try:
            _wait_for_close(read_fd, time.monotonic() + timeout_s)
        except TimedOut:
            _kill(pid)
            raise
        status = _reap(pid)
        size = os.fstat(out_fd).st_size
        if status != 0 or not size:
            raise Died(_how(status))
        outcome = _load(out_fd, size)
    finally:
        os.close(read_fd)
        os.close(out_fd)
    if isinstance(outcome, BaseException):
        raise outcome
    return cast(T, outcome)


def _child(call: Callable[[], object], out_fd: int, memory_bytes: int) -> None:
    code = 0
    try:
        lifetime.die_with_parent()
        faulthandler.disable()  # an abort at the cap is an outcome the parent reports
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides what ^C means
        _cap_memory(memory_bytes)
        try:
            outcome: object = call()
        except MemoryError:
            outcome = Died("out of memory")
        except Exception as error:  # handed to the parent, which raises it
            outcome = error
        _dump(outcome, out_fd)
    except BaseException:
        code = 1
    finally:
        os._exit(code)


# The outcome's file: the pickle's length and the pickle, then each of its large buffers
# (a page's pixels) as its length and its bytes, written and read without a copy.
_LENGTH = struct.Struct("<Q")


def _dump(outcome: object, fd: int) -> None:
    buffers: list[pickle.PickleBuffer] = []
    try:
        meta = pickle.dumps(outcome, protocol=5, buffer_callback=buffers.append)
    except Exception as error:  # an exception that does not pickle: send its words
        buffers = []
        meta = pickle.dumps(RuntimeError(f"{type(outcome).__name__}: {outcome} ({error})"))
    parts: list[bytes | memoryview] = [meta, *(buffer.raw() for buffer in buffers)]
    for part in parts:
        _write_all(fd, _LENGTH.pack(len(part)))
        _write_all(fd, part)


def _write_all(fd: int, data: bytes | memoryview) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def _load(fd: int, size: int) -> object:
    whole = bytearray(size)
    view = memoryview(whole)
    read = 0
    while read < size:
        got = os.preadv(fd, [view[read:]], read)
        if not got:
            break
        read += got
    parts = []
    offset = 0
    while offset + _LENGTH.size <= read:
        (length,) = _LENGTH.unpack_from(view, offset)
        offset += _LENGTH.size
        parts.append(view[offset:offset + length])
        offset += length
    meta, *buffers = parts
    return pickle.loads(meta, buffers=buffers)


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


def _wait_for_close(fd: int, deadline: float) -> None:
    """Until the child's end of the pipe closes: it has exited."""
    while True:
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([fd], [], [], left)[0]:
            raise TimedOut()
        if not os.read(fd, 1):
            return


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
