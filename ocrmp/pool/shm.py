"""The life of a pool's shared-memory segment: its name, creation, attachment, removal.

The segment starts with a header the master writes once (magic, layout, size, and who owns
it: the master's pid and start time, and its resource tracker). Creating a pool's segment
replaces one left by a dead master, and refuses while its master lives.
"""

from __future__ import annotations

import hashlib
import os
import pwd
import re
import time
from contextlib import suppress
from multiprocessing import resource_tracker
from multiprocessing.shared_memory import SharedMemory
from typing import Any, cast

import psutil

from ocrmp.atomics import AtomicOps
from ocrmp.errors import PoolError

WORD = 8
HEADER_WORDS = 64
MAGIC = int.from_bytes(b"OCRMPSLT", "little", signed=True)
# Header words (master-written, once).
H_MAGIC, H_VERSION, H_NSLOTS, H_RECORD_WORDS = 0, 1, 2, 3
H_MASTER_PID, H_MASTER_START_US, H_CREATED_NS = 4, 5, 7
H_TRACKER_PID = 8  # the master's resource tracker process: see _untrack()
# Tolerance on the master's process start time (psutil rounds through clock ticks).
_START_TOLERANCE_US = 10_000


class SlotTableError(PoolError):
    """The slot table is unusable."""


class SlotTableMissing(SlotTableError):
    """No slot table exists for this pool; is its master running?"""


class PoolAlreadyRunning(SlotTableError):
    """A live master already owns this pool's slot table."""


class ForeignSlotTable(SlotTableError):
    """This pool's slot table name is taken by a segment of another user."""


def segment_name(pool_name: str) -> str:
    """The shared-memory name of a pool's slot table: `ocrmp-<sanitised pool name>`."""
    if not pool_name:
        raise SlotTableError("a pool needs a non-empty name")
    cleaned = re.sub(r"[^A-Za-z0-9_.-]", "_", pool_name)[:200]
    if cleaned != pool_name:
        # Keep "a b" and "a_b" (or two long names) from sharing one table.
        cleaned += "-" + hashlib.sha256(pool_name.encode()).hexdigest()[:10]
    return f"ocrmp-{cleaned}"


def header_word(buf: Any, ops: AtomicOps, word: int) -> int:
    return ops.load(buf, word * WORD)


def create(pool: str, size: int, layout: tuple[int, int, int], ops: AtomicOps) -> SharedMemory:
    """Create the segment of pool `pool` with its header (version, slots, record words),
    replacing a stale one left by a dead master."""
    segment = segment_name(pool)
    for _ in range(3):
        try:
            shm = SharedMemory(segment, create=True, size=size)
        except FileExistsError:
            _replace_if_stale(segment, pool, ops)
            continue
        try:
            _initialise(shm, layout, ops)
        except BaseException:
            shm.close()
            shm.unlink()
            raise
        return shm
    raise SlotTableError(f"could not create the slot table {segment!r}: another "
                         "process keeps re-creating it")


def attach(pool: str, version: int, record_size: int, max_slots: int,
           ops: AtomicOps) -> SharedMemory:
    """The running segment of pool `pool`, its header checked (SlotTableMissing when none)."""
    segment = segment_name(pool)
    try:
        shm = SharedMemory(segment)
    except FileNotFoundError:
        raise SlotTableMissing(f"no slot table for pool {pool!r} (no /dev/shm/{segment}); "
                               "is its master running?") from None
    _untrack(shm, ops)
    try:
        _check_header(shm, pool, version, record_size, max_slots, ops)
    except BaseException:
        shm.close()
        raise
    return shm


def unlink(shm: SharedMemory) -> None:
    with suppress(FileNotFoundError):
        shm.unlink()


def _initialise(shm: SharedMemory, layout: tuple[int, int, int], ops: AtomicOps) -> None:
    buf = cast(memoryview, shm.buf)
    version, nslots, record_words = layout
    pid = os.getpid()
    for word, value in ((H_VERSION, version), (H_NSLOTS, nslots),
                        (H_RECORD_WORDS, record_words), (H_MASTER_PID, pid),
                        (H_MASTER_START_US, _start_us(pid)), (H_CREATED_NS, time.time_ns()),
                        (H_TRACKER_PID, _tracker_pid())):
        ops.store(buf, word * WORD, value)
    ops.store(buf, H_MAGIC * WORD, MAGIC)  # last: attachers now see a complete header


def _check_header(shm: SharedMemory, pool: str, version: int, record_size: int,
                  max_slots: int, ops: AtomicOps) -> None:
    buf = cast(memoryview, shm.buf)
    if shm.size < HEADER_WORDS * WORD + record_size or header_word(buf, ops, H_MAGIC) != MAGIC:
        raise SlotTableError(f"/dev/shm/{shm.name} is not an initialised ocrmp slot table")
    found = header_word(buf, ops, H_VERSION)
    if found != version:
        raise SlotTableError(f"the slot table of pool {pool!r} has layout {found}; this "
                             f"ocrmp reads layout {version}: use the same version")
    nslots = header_word(buf, ops, H_NSLOTS)
    if not 1 <= nslots <= max_slots or shm.size < HEADER_WORDS * WORD + nslots * record_size:
        raise SlotTableError(f"the slot table of pool {pool!r} is corrupt ({nslots} slots "
                             f"in {shm.size} bytes)")


def _replace_if_stale(segment: str, pool: str, ops: AtomicOps) -> None:
    """Unlink a table left by a dead master; PoolAlreadyRunning when its master lives."""
    try:
        shm = SharedMemory(segment)
    except FileNotFoundError:
        return  # vanished meanwhile: just create it
    try:
        _refuse_foreign(shm, segment, pool)
        pid, start = _owner_of(shm, ops)
        if _owner_alive(pid, start):
            _untrack(shm, ops)
            raise PoolAlreadyRunning(
                f"pool {pool!r} is already run by master pid {pid} (slot table "
                f"/dev/shm/{segment}); stop it first or choose another pool name")
        shm.unlink()  # also unregisters it from this process's resource tracker
    finally:
        shm.close()


def _refuse_foreign(shm: SharedMemory, segment: str, pool: str) -> None:
    """/dev/shm is writable by every local user: a segment there under our name that another
    user owns was not made by our master, whatever its header claims."""
    owner = os.fstat(cast(Any, shm)._fd).st_uid
    if owner != os.geteuid():
        # Never let our resource tracker unlink another user's file at exit.
        resource_tracker.unregister(cast(Any, shm)._name, "shared_memory")
        raise ForeignSlotTable(
            f"/dev/shm/{segment} (where pool {pool!r} keeps its slot table) belongs to "
            f"{_user_name(owner)}, not to you: it is not this pool's table. Find out who made "
            f"it, remove it (rm /dev/shm/{segment}), or choose another pool name")


def _user_name(uid: int) -> str:
    try:
        return f"user {pwd.getpwuid(uid).pw_name} (uid {uid})"
    except KeyError:
        return f"uid {uid}"


def _owner_of(shm: SharedMemory, ops: AtomicOps) -> tuple[int, int]:
    """The master pid and start time a table names; none for garbage (bad magic) or a
    table still being initialised by a master that wrote its pid but not yet the magic."""
    if shm.size < HEADER_WORDS * WORD:
        return 0, 0
    buf = cast(memoryview, shm.buf)
    if header_word(buf, ops, H_MAGIC) not in (0, MAGIC):
        return 0, 0
    return header_word(buf, ops, H_MASTER_PID), header_word(buf, ops, H_MASTER_START_US)


def _start_us(pid: int) -> int:
    return round(psutil.Process(pid).create_time() * 1_000_000)


def _owner_alive(pid: int, start_us: int) -> bool:
    """Is the master that wrote this header still running (not a reused pid)?"""
    if pid <= 0:
        return False
    try:
        proc = psutil.Process(pid)
        if proc.status() == psutil.STATUS_ZOMBIE:
            return False
        return abs(_start_us(pid) - start_us) <= _START_TOLERANCE_US
    except psutil.NoSuchProcess:
        return False
    except psutil.AccessDenied:
        return True  # cannot tell: never clobber what may be a live pool


def _tracker_pid() -> int:
    """Our resource tracker's pid (0 if unknown); SharedMemory() has started it."""
    return getattr(resource_tracker._resource_tracker, "_pid", None) or 0


def _untrack(shm: SharedMemory, ops: AtomicOps) -> None:
    """Stop multiprocessing's resource tracker from unlinking a segment we only attached.

    Python 3.11 registers every SharedMemory, attached or created, and its tracker unlinks
    whatever is still registered when this process exits: `ocrmp status` would delete a
    live pool's table. (3.13's `track=False` avoids this; here we unregister by hand.) The
    tracker holds a set of names, so when we share the master's tracker (we are the master,
    or forked from it) our registration is the master's own and must stay.
    """
    ours = _tracker_pid()
    masters = header_word(cast(memoryview, shm.buf), ops, H_TRACKER_PID) \
        if shm.size >= HEADER_WORDS * WORD else 0
    if ours == 0 or masters != ours:
        resource_tracker.unregister(cast(Any, shm)._name, "shared_memory")
