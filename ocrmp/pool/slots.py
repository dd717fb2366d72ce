"""The slot table: one record per worker slot in named shared memory.

The master creates the table before forking; workers inherit the mapping; `ocrmp status`
attaches to it by name, read-only. Every field is a signed 64-bit word accessed through
`ocrmp.atomics`, and every field has exactly one writer:

- master-written: the header, and per slot `generation`, `pid`, `mode`, `command`, the
  assignment (`assign_seq`, `env`, `job_id`, `attempt`, `document_number`, `kind`, and
  `payload`: the job's details as text, e.g. JSON), memory, restart/recycle counters, the
  last exit and the breaker. The master writes them under the record's seqlock (`mseq`,
  odd while writing), so a reader sees an assignment or an exit whole, never half of the
  old one and half of the new one.
- worker-written: `phase`, `taken_seq`, `done_seq`, `heartbeat_ns`, `job_started_ns`,
  `jobs_done`, `pages_done`, `jobs_failed`, `jobs_errored`, `current_page`, `job_flags`
  (the flags of the job it completed last, `DocumentFlags.to_bits`). Each is one word on
  its own, stored directly. Between two lives of a slot (reaped, not yet respawned) no worker
  exists, so the master may write them, e.g. `phase = Phase.DEAD`.

A job is pending while `assign_seq > taken_seq` and running while `taken_seq > done_seq`.
Layout: a 64-word header, then 192 words per slot; worker words start on their own cache
line so a worker's heartbeat does not bounce the line the master writes.
"""

from __future__ import annotations

import hashlib
import itertools
import os
import pwd
import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from enum import IntEnum
from multiprocessing import resource_tracker
from multiprocessing.shared_memory import SharedMemory
from typing import Any, Generic, TypeVar, cast, overload

import psutil

from ocrmp import atomics
from ocrmp.atomics import AtomicOps
from ocrmp.config import MAX_POOL_SIZE
from ocrmp.errors import PoolError

LAYOUT_VERSION = 2
MAGIC = int.from_bytes(b"OCRMPSLT", "little", signed=True)
DOCUMENT_NUMBER_BYTES = 64
EXIT_REASON_BYTES = 96
PAYLOAD_BYTES = 1024

_WORD = 8
_RECORD_WORDS = 192
_HEADER_WORDS = 64
_WORKER_BASE = 176  # first worker word: its own cache line (176 * 8 = 22 * 64)
# Tolerance on the master's process start time (psutil rounds through clock ticks).
_START_TOLERANCE_US = 10_000
_SEQLOCK_SPINS = 100
_SEQLOCK_GIVE_UP_S = 2.0


class Phase(IntEnum):
    """Worker-written state of a slot. Zero (a fresh table) reads as DEAD."""

    DEAD = 0
    STARTING = 1
    IDLE = 2
    BUSY = 3
    DRAINING = 4
    EXITING = 5


class Mode(IntEnum):
    INDEX = 0
    ACTE = 1


class Command(IntEnum):
    NONE = 0
    STOP = 1
    RECYCLE = 2
    DRAIN = 3


class Environment(IntEnum):
    DEV = 0
    STAGING = 1
    PROD = 2


class DocumentKind(IntEnum):
    INDEX = 0
    ACTE = 1
    OTHER = 2


class SlotTableError(PoolError):
    """The slot table is unusable."""


class SlotTableMissing(SlotTableError):
    """No slot table exists for this pool; is its master running?"""


class PoolAlreadyRunning(SlotTableError):
    """A live master already owns this pool's slot table."""


class ForeignSlotTable(SlotTableError):
    """This pool's slot table name is taken by a segment of another user."""


class TornRecord(SlotTableError):
    """A slot stayed half-written; its master probably died while writing it."""


# Header words (master-written).
H_MAGIC, H_VERSION, H_NSLOTS, H_RECORD_WORDS = 0, 1, 2, 3
H_MASTER_PID, H_MASTER_START_US, H_POOL_SEQ, H_CREATED_NS = 4, 5, 6, 7
H_TRACKER_PID = 8  # the master's resource tracker process: see _untrack()

_MASTER_WORDS = (
    "mseq", "generation", "pid", "mode", "command", "assign_seq", "env", "job_id",
    "attempt", "kind", "memory_rss", "memory_uss", "restarts", "recycles",
    "last_exit_code", "last_exit_signal", "breaker_tripped", "spawned_at",
)
_WORKER_WORDS = (
    "phase", "taken_seq", "done_seq", "heartbeat_ns", "job_started_ns", "jobs_done",
    "pages_done", "jobs_failed", "jobs_errored", "current_page", "job_flags",
)
# Word index of each field inside a record; text = (length word, then the bytes).
WORDS: dict[str, int] = {name: i for i, name in enumerate(_MASTER_WORDS)}
TEXTS: dict[str, tuple[int, int]] = {}
for _name, _capacity in (("document_number", DOCUMENT_NUMBER_BYTES),
                         ("last_exit_reason", EXIT_REASON_BYTES), ("payload", PAYLOAD_BYTES)):
    TEXTS[_name] = (len(_MASTER_WORDS) + sum(1 + c // _WORD for _, c in TEXTS.values()),
                    _capacity)
# Cut to fit: labels for people. The payload (the job's details, JSON) is refused instead.
_TRUNCATED_TEXTS = frozenset({"document_number", "last_exit_reason"})
WORDS.update({name: _WORKER_BASE + i for i, name in enumerate(_WORKER_WORDS)})
_MASTER_FIELDS = frozenset(_MASTER_WORDS[1:]) | frozenset(TEXTS)
_READ_WORDS = _WORKER_BASE + len(_WORKER_WORDS)
# Words a snapshot always reads; text bytes are read only up to their length.
_FIXED_WORDS = sorted([*WORDS.values(), *(first for first, _ in TEXTS.values())])
assert TEXTS["payload"][0] + 1 + PAYLOAD_BYTES // _WORD <= _WORKER_BASE
assert _READ_WORDS <= _RECORD_WORDS


def segment_name(pool_name: str) -> str:
    """The shared-memory name of a pool's slot table: `ocrmp-<sanitised pool name>`."""
    if not pool_name:
        raise SlotTableError("a pool needs a non-empty name")
    cleaned = re.sub(r"[^A-Za-z0-9_.-]", "_", pool_name)[:200]
    if cleaned != pool_name:
        # Keep "a b" and "a_b" (or two long names) from sharing one table.
        cleaned += "-" + hashlib.sha256(pool_name.encode()).hexdigest()[:10]
    return f"ocrmp-{cleaned}"


def table_size(nslots: int) -> int:
    """Bytes of a table of nslots slots."""
    return (_HEADER_WORDS + nslots * _RECORD_WORDS) * _WORD


def truncate_utf8(text: str, limit: int) -> bytes:
    """text encoded as UTF-8, cut to at most limit bytes without splitting a character."""
    return text.encode("utf-8")[:limit].decode("utf-8", "ignore").encode("utf-8")


def _text_words(data: bytes) -> list[int]:
    padded = data.ljust(-(-len(data) // _WORD) * _WORD, b"\0")
    return [int.from_bytes(padded[i:i + _WORD], "little", signed=True)
            for i in range(0, len(padded), _WORD)]


def _words_text(words: list[int], length: int) -> str:
    raw = b"".join(w.to_bytes(_WORD, "little", signed=True) for w in words)
    return raw[:max(0, min(length, len(raw)))].decode("utf-8", "replace")


@dataclass(frozen=True)
class Assignment:
    """The job the master wrote into a slot, read whole under the seqlock."""

    assign_seq: int
    env: Environment
    job_id: int
    attempt: int
    document_number: str
    kind: DocumentKind
    payload: str


@dataclass(frozen=True)
class SlotSnapshot:
    """A whole slot record; master fields are mutually consistent."""

    index: int
    generation: int
    pid: int
    mode: Mode
    command: Command
    assign_seq: int
    env: Environment
    job_id: int
    attempt: int
    document_number: str
    kind: DocumentKind
    payload: str
    memory_rss: int
    memory_uss: int
    restarts: int
    recycles: int
    last_exit_code: int
    last_exit_signal: int
    last_exit_reason: str
    breaker_tripped: int
    spawned_at: int
    phase: Phase
    taken_seq: int
    done_seq: int
    heartbeat_ns: int
    job_started_ns: int
    jobs_done: int
    pages_done: int
    jobs_failed: int
    jobs_errored: int  # failures that ended the job in 4, not retried
    current_page: int
    job_flags: int  # the last completed job's flags, as DocumentFlags.to_bits() wrote them

    @property
    def pending(self) -> bool:
        """An assignment is written that the worker has not taken yet."""
        return self.assign_seq > self.taken_seq

    @property
    def running(self) -> bool:
        """The worker has taken a job it has not finished."""
        return self.taken_seq > self.done_seq


@dataclass(frozen=True)
class PoolHeader:
    nslots: int
    master_pid: int
    master_start_us: int
    pool_seq: int
    created_ns: int


T = TypeVar("T", bound=int)


class _Word(Generic[T]):
    """One 64-bit field of a slot: read directly; master fields written under the seqlock."""

    def __init__(self, convert: Callable[[int], T]) -> None:
        self.convert = convert
        self.name = ""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    @overload
    def __get__(self, slot: None, owner: type) -> _Word[T]: ...
    @overload
    def __get__(self, slot: Slot, owner: type) -> T: ...

    def __get__(self, slot: Slot | None, owner: type) -> _Word[T] | T:
        if slot is None:
            return self
        return self.convert(slot.load(WORDS[self.name]))

    def __set__(self, slot: Slot, value: int) -> None:
        if self.name in _MASTER_FIELDS:
            slot.update(**{self.name: value})
        else:
            slot.store(WORDS[self.name], value)


class Slot:
    """Typed access to one slot record: `slot.phase`, `slot.phase = Phase.IDLE`, ..."""

    generation = _Word(int)
    pid = _Word(int)
    mode = _Word(Mode)
    command = _Word(Command)
    assign_seq = _Word(int)
    memory_rss = _Word(int)
    memory_uss = _Word(int)
    restarts = _Word(int)
    recycles = _Word(int)
    breaker_tripped = _Word(int)
    spawned_at = _Word(int)
    phase = _Word(Phase)
    taken_seq = _Word(int)
    done_seq = _Word(int)
    heartbeat_ns = _Word(int)
    job_started_ns = _Word(int)
    jobs_done = _Word(int)
    pages_done = _Word(int)
    jobs_failed = _Word(int)
    jobs_errored = _Word(int)
    current_page = _Word(int)
    job_flags = _Word(int)

    def __init__(self, table: SlotTable, index: int) -> None:
        self.table = table
        self.index = index
        self._base = (_HEADER_WORDS + index * _RECORD_WORDS) * _WORD

    def load(self, word: int) -> int:
        return self.table.ops.load(self.table.buf, self._base + word * _WORD)

    def store(self, word: int, value: int) -> None:
        self.table.ops.store(self.table.buf, self._base + word * _WORD, value)

    # Master side.

    @contextmanager
    def _writing(self) -> Iterator[None]:
        seq = self.load(WORDS["mseq"])
        self.store(WORDS["mseq"], seq + 1)  # odd: readers retry
        try:
            yield
        finally:
            self.store(WORDS["mseq"], seq + 2)

    def update(self, **fields: int | str) -> None:
        """Write master fields (text fields take str) as one consistent change."""
        unknown = set(fields) - _MASTER_FIELDS
        if unknown:
            raise AttributeError(f"not master-written slot fields: {sorted(unknown)}")
        with self._writing():
            for name, value in fields.items():
                if name in TEXTS:
                    self._store_text(name, str(value))
                else:
                    self.store(WORDS[name], int(value))

    def _store_text(self, name: str, text: str) -> None:
        first, capacity = TEXTS[name]
        data = truncate_utf8(text, capacity) if name in _TRUNCATED_TEXTS else text.encode()
        if len(data) > capacity:
            raise ValueError(f"slot {self.index}: {name} of {len(data)} bytes does not fit "
                             f"in {capacity}")
        # Words past the length are never read, so a shorter text leaves them as they are.
        for i, word in enumerate(_text_words(data)):
            self.store(first + 1 + i, word)
        self.store(first, len(data))

    def assign(self, *, env: int, attempt: int, document_number: str, kind: int,
               payload: str = "", job_id: int = 0) -> int:
        """Write a job into the slot; returns its assign_seq (ring the doorbell next).
        job_id is for numeric ids only; any id travels in the payload."""
        seq = self.assign_seq + 1
        self.update(env=env, job_id=job_id, attempt=attempt, document_number=document_number,
                    kind=kind, payload=payload, assign_seq=seq)
        return seq

    def spawned(self, pid: int) -> int:
        """Record a freshly forked worker; returns the slot's new generation."""
        generation = self.generation + 1
        self.update(generation=generation, pid=pid, command=Command.NONE,
                    spawned_at=time.time_ns())
        return generation

    def record_exit(self, code: int, signal: int, reason: str) -> None:
        """Record how the slot's worker ended (code or signal, and why in words)."""
        self.update(last_exit_code=code, last_exit_signal=signal, last_exit_reason=reason)

    # Worker side.

    def beat(self) -> None:
        """Touch the heartbeat (monotonic clock: system-wide on Linux)."""
        self.heartbeat_ns = time.monotonic_ns()

    def assignment(self) -> Assignment:
        """The current assignment, read whole."""
        snap = self.snapshot()
        return Assignment(snap.assign_seq, snap.env, snap.job_id, snap.attempt,
                          snap.document_number, snap.kind, snap.payload)

    # Readers.

    def snapshot(self) -> SlotSnapshot:
        """The whole record, retried until no master write overlapped the read."""
        seq_word = WORDS["mseq"]
        deadline = 0.0
        for spin in itertools.count():
            before = self.load(seq_word)
            if before % 2 == 0:
                words = self._read_words()
                if self.load(seq_word) == before:
                    return self._decode(words)
            if spin >= _SEQLOCK_SPINS:
                deadline = deadline or time.monotonic() + _SEQLOCK_GIVE_UP_S
                if time.monotonic() > deadline:
                    raise TornRecord(f"slot {self.index} stayed half-written for "
                                     f"{_SEQLOCK_GIVE_UP_S:.0f}s; was its master killed?")
                os.sched_yield()
        raise AssertionError("unreachable: itertools.count() does not end")

    def _read_words(self) -> list[int]:
        words = [0] * _READ_WORDS
        for w in _FIXED_WORDS:
            words[w] = self.load(w)
        for first, capacity in TEXTS.values():
            used = min(max(words[first], 0), capacity)  # torn lengths are retried anyway
            for w in range(first + 1, first + 1 + -(-used // _WORD)):
                words[w] = self.load(w)
        return words

    def _decode(self, words: list[int]) -> SlotSnapshot:
        values: dict[str, Any] = {name: words[i] for name, i in WORDS.items()}
        for name, (first, capacity) in TEXTS.items():
            values[name] = _words_text(words[first + 1:first + 1 + capacity // _WORD],
                                       words[first])
        del values["mseq"]
        for name, enum in (("mode", Mode), ("command", Command), ("env", Environment),
                           ("kind", DocumentKind), ("phase", Phase)):
            values[name] = enum(values[name])
        return SlotSnapshot(index=self.index, **values)


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
    masters = ops.load(cast(memoryview, shm.buf), H_TRACKER_PID * _WORD) \
        if shm.size >= _HEADER_WORDS * _WORD else 0
    if ours == 0 or masters != ours:
        resource_tracker.unregister(cast(Any, shm)._name, "shared_memory")


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


class SlotTable:
    """The shared slot table of one pool."""

    def __init__(self, shm: SharedMemory, ops: AtomicOps, *, owner: bool,
                 readonly: bool) -> None:
        self.shm = shm
        self.ops = ops
        self.owner_pid = os.getpid() if owner else 0
        self.readonly = readonly
        # A read-only view makes any write raise instead of silently changing the pool.
        self.buf: memoryview = cast(memoryview, shm.buf).toreadonly() if readonly else \
            cast(memoryview, shm.buf)
        self.nslots = self._header_word(H_NSLOTS)

    @classmethod
    def create(cls, name: str, nslots: int, *, ops: AtomicOps | None = None) -> SlotTable:
        """Create the table of pool `name`, replacing a stale one left by a dead master."""
        if not 1 <= nslots <= MAX_POOL_SIZE:
            raise SlotTableError(f"a pool has 1 to {MAX_POOL_SIZE} slots, not {nslots}")
        segment = segment_name(name)
        chosen = ops or cast(AtomicOps, atomics)
        for _ in range(3):
            try:
                shm = SharedMemory(segment, create=True, size=table_size(nslots))
            except FileExistsError:
                _replace_if_stale(segment, name, chosen)
                continue
            try:
                _initialise(shm, nslots, chosen)
            except BaseException:
                shm.close()
                shm.unlink()
                raise
            return cls(shm, chosen, owner=True, readonly=False)
        raise SlotTableError(f"could not create the slot table {segment!r}: another "
                             "process keeps re-creating it")

    @classmethod
    def attach(cls, name: str, *, readonly: bool = True,
               ops: AtomicOps | None = None) -> SlotTable:
        """Attach to the running table of pool `name` (SlotTableMissing when none)."""
        chosen = ops or cast(AtomicOps, atomics)
        shm = _open(segment_name(name), name, chosen)
        try:
            _check_header(shm, name, chosen)
        except BaseException:
            shm.close()
            raise
        return cls(shm, chosen, owner=False, readonly=readonly)

    def __enter__(self) -> SlotTable:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __len__(self) -> int:
        return self.nslots

    @property
    def name(self) -> str:
        return self.shm.name

    def slot(self, index: int) -> Slot:
        if not 0 <= index < self.nslots:
            raise IndexError(f"slot {index} out of range (the pool has {self.nslots})")
        return Slot(self, index)

    def snapshot(self, index: int) -> SlotSnapshot:
        return self.slot(index).snapshot()

    def snapshots(self) -> list[SlotSnapshot]:
        return [self.snapshot(i) for i in range(self.nslots)]

    def header(self) -> PoolHeader:
        word = self._header_word
        return PoolHeader(self.nslots, word(H_MASTER_PID), word(H_MASTER_START_US),
                          word(H_POOL_SEQ), word(H_CREATED_NS))

    def bump_pool_seq(self) -> int:
        """Master: mark a pool-wide change (configuration, mode allocation)."""
        return self.ops.fetch_add(self.buf, H_POOL_SEQ * _WORD, 1) + 1

    def master_alive(self) -> bool:
        """Is the master that created this table still running?"""
        return _owner_alive(self._header_word(H_MASTER_PID),
                            self._header_word(H_MASTER_START_US))

    def close(self) -> None:
        """Unmap the table (idempotent); the segment itself stays."""
        self.buf.release()
        with suppress(BufferError):  # a caller still holds a view: leave the mapping
            self.shm.close()

    def unlink(self) -> None:
        """Master on exit: remove the segment. A no-op in any other process (workers)."""
        if self.owner_pid != os.getpid():
            return
        with suppress(FileNotFoundError):
            self.shm.unlink()
        self.owner_pid = 0

    def _header_word(self, word: int) -> int:
        return self.ops.load(self.buf, word * _WORD)


def _initialise(shm: SharedMemory, nslots: int, ops: AtomicOps) -> None:
    buf = cast(memoryview, shm.buf)
    pid = os.getpid()
    for word, value in ((H_VERSION, LAYOUT_VERSION), (H_NSLOTS, nslots),
                        (H_RECORD_WORDS, _RECORD_WORDS), (H_MASTER_PID, pid),
                        (H_MASTER_START_US, _start_us(pid)), (H_CREATED_NS, time.time_ns()),
                        (H_TRACKER_PID, _tracker_pid())):
        ops.store(buf, word * _WORD, value)
    ops.store(buf, H_MAGIC * _WORD, MAGIC)  # last: attachers now see a complete header


def _open(segment: str, pool: str, ops: AtomicOps) -> SharedMemory:
    try:
        shm = SharedMemory(segment)
    except FileNotFoundError:
        raise SlotTableMissing(f"no slot table for pool {pool!r} (no /dev/shm/{segment}); "
                               "is its master running?") from None
    _untrack(shm, ops)
    return shm


def _check_header(shm: SharedMemory, pool: str, ops: AtomicOps) -> None:
    buf = cast(memoryview, shm.buf)
    if shm.size < table_size(1) or ops.load(buf, H_MAGIC * _WORD) != MAGIC:
        raise SlotTableError(f"/dev/shm/{shm.name} is not an initialised ocrmp slot table")
    version = ops.load(buf, H_VERSION * _WORD)
    if version != LAYOUT_VERSION:
        raise SlotTableError(f"the slot table of pool {pool!r} has layout {version}; this "
                             f"ocrmp reads layout {LAYOUT_VERSION}: use the same version")
    nslots = ops.load(buf, H_NSLOTS * _WORD)
    if not 1 <= nslots <= MAX_POOL_SIZE or shm.size < table_size(nslots):
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
    if shm.size < _HEADER_WORDS * _WORD:
        return 0, 0
    buf = cast(memoryview, shm.buf)
    if ops.load(buf, H_MAGIC * _WORD) not in (0, MAGIC):
        return 0, 0
    return ops.load(buf, H_MASTER_PID * _WORD), ops.load(buf, H_MASTER_START_US * _WORD)
