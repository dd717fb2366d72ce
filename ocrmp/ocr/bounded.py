"""Run calls in a forked child with a deadline each and a memory cap, and take their results.

pdfium cannot be interrupted: a page of a million strokes renders for minutes and its
content alone can take gigabytes. So pages are read in a child forked for them (fork,
not spawn: the child shares the parent's loaded libraries), which is killed when a page
runs past its deadline and whose address space is capped, so running out of memory kills
the child, never the worker. The results, or the exception a call raised, come back
pickled in a memory file.

A fork from a worker holding the engine costs tens of milliseconds, most of it after the
child is gone (the parent's pages are write-protected until each is touched again), so
one child reads several pages in a row (`run_each`), up to a number of bytes of results.
"""

from __future__ import annotations

import contextlib
import faulthandler
import mmap
import os
import pickle
import resource
import select
import signal
import struct
import time
import warnings
from collections.abc import Callable, Sequence
from typing import TypeVar, cast

from ocrmp import lifetime

T = TypeVar("T")

# Seconds the next call may take.
Budget = Callable[[], float]


class TimedOut(Exception):
    """The child was still running at the deadline and was killed; the argument is the
    seconds it had been given."""

    @property
    def seconds(self) -> float:
        return float(self.args[0]) if self.args else 0.0


class Died(Exception):
    """The child ended without a result: killed by a signal (its memory cap makes an
    allocator abort) or exited early. The argument says how."""


def run_each(calls: Sequence[Callable[[], T]], *, budget: Budget, memory_bytes: int,
             max_bytes: int) -> list[T | BaseException]:
    """The calls in order in one child, each given `budget()` seconds from the end of the
    one before: their outcomes, a result or the exception raised, in order.

    The list ends early at the first exception (a call's own, or `TimedOut` or `Died` for
    the call the child was on) and once the results hold `max_bytes`: the caller starts
    another child for the calls left.
    """
    # Outcomes are written to a memory file, read once the child has exited: a page's
    # pixels through a pipe would take a context switch per 64 KB, slow on a busy host.
    # The pipe carries a byte per call done, and tells by closing that the child is gone.
    lifetime.prepare()  # libc found here once, not in every child
    out_fd = os.memfd_create("ocrmp-pages", os.MFD_CLOEXEC)
    read_fd, write_fd = os.pipe()
    try:
        with warnings.catch_warnings():
            # The child runs only the calls and exits without touching another thread's locks.
            warnings.simplefilter("ignore", DeprecationWarning)
            pid = os.fork()
        if pid == 0:  # pragma: no cover - the child; its outcome is checked by the parent
            os.close(read_fd)
            _child(calls, out_fd, write_fd, memory_bytes, max_bytes)
        os.close(write_fd)
        done, failure = _wait_for_calls(read_fd, pid, len(calls), budget)
        outcomes: list[T | BaseException] = []
        if done:
            outcomes = cast(list, _load(out_fd, os.fstat(out_fd).st_size))[:done]
    finally:
        os.close(read_fd)
        os.close(out_fd)
    return outcomes if failure is None else [*outcomes, failure]


def _wait_for_calls(fd: int, pid: int, count: int,
                    budget: Budget) -> tuple[int, BaseException | None]:
    """How many calls the child finished, and what stopped it short of them all."""
    done = 0
    while done < count:
        allowed = budget()
        try:
            if not _wait_for_byte(fd, time.monotonic() + allowed):
                break  # the child is gone: finished early, or died
        except TimedOut:
            _kill(pid)
            return done, TimedOut(allowed)
        done += 1
    status = _reap(pid)
    if status != 0 or not done:
        return done, Died(_how(status))
    return done, None
def _child(calls: Sequence[Callable[[], object]], out_fd: int, done_fd: int,
           memory_bytes: int, max_bytes: int) -> None:
    code = 0
    try:
        lifetime.die_with_parent()
        faulthandler.disable()  # an abort at the cap is an outcome the parent reports
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides what ^C means
        _cap_memory(memory_bytes)
        written = 0
        for call in calls:
            outcome = _outcome(call)
            written += _dump(outcome, out_fd)
            os.write(done_fd, b".")
            if isinstance(outcome, BaseException) or written >= max_bytes:
                break
    except BaseException:
        code = 1
    finally:
        os._exit(code)


def _outcome(call: Callable[[], object]) -> object:
    try:
        return call()
    except MemoryError:
        return Died("out of memory")
    except Exception as error:  # handed to the parent, which raises it
        return error


# The outcomes' file: for each, the pickle's length and the pickle, then each of its
# large buffers (a page's pixels) as its length and its bytes, written and read without a
# copy; the pickle says how many buffers follow it.
_LENGTH = struct.Struct("<Q")


def _dump(outcome: object, fd: int) -> int:
    """Append the outcome to the file; how many bytes that took."""
    buffers: list[pickle.PickleBuffer] = []
    try:
        meta = pickle.dumps(outcome, protocol=5, buffer_callback=buffers.append)
    except Exception as error:  # an exception that does not pickle: send its words
        buffers = []
        meta = pickle.dumps(RuntimeError(f"{type(outcome).__name__}: {outcome} ({error})"))
    parts: list[bytes | memoryview] = [_LENGTH.pack(len(buffers)), meta,
                                       *(buffer.raw() for buffer in buffers)]
    written = 0
    for part in parts:
        _write_all(fd, _LENGTH.pack(len(part)))
        _write_all(fd, part)
        written += _LENGTH.size + len(part)
    return written


def _write_all(fd: int, data: bytes | memoryview) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def _load(fd: int, size: int) -> list[object]:
    # Mapped, not read: the pixels stay where the child wrote them, and a page is copied
    # only where it is written to (a private mapping), when it is at all.
    if not size:
        return []
    view = memoryview(mmap.mmap(fd, size, access=mmap.ACCESS_COPY))
    parts = []
    offset = 0
    while offset + _LENGTH.size <= size:
        (length,) = _LENGTH.unpack_from(view, offset)
        offset += _LENGTH.size
        parts.append(view[offset:offset + length])
        offset += length
    outcomes = []
    while parts:
        (count,) = _LENGTH.unpack(parts[0])
        meta, buffers, parts = parts[1], parts[2:2 + count], parts[2 + count:]
        outcomes.append(pickle.loads(meta, buffers=buffers))
    return outcomes


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


def _wait_for_byte(fd: int, deadline: float) -> bool:
    """True when the child says a call is done, False when its end of the pipe closes
    (it has exited); TimedOut at the deadline."""
    left = deadline - time.monotonic()
    if left <= 0 or not select.select([fd], [], [], left)[0]:
        raise TimedOut()
    return bool(os.read(fd, 1))


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
