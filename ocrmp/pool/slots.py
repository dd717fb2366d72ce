"""The slot table: one record per worker slot in named shared memory (see `shm` for its life,
`record` for its fields).

The master creates the table before forking; workers inherit the mapping; `ocrmp status`
attaches to it by name, read-only. Every field has exactly one writer:

- master-written: `generation`, `pid`, `mode`, `command`, the job (`assign_seq`, `env`,
  `attempt`, `kind`, `document_number`, and `payload`: the rest of the job as JSON), memory,
  restart/recycle counters, the last exit and the breaker. The master writes them under the
  record's seqlock (`mseq`, odd while writing), so a reader sees an assignment or an exit
  whole, never half of the old one and half of the new one.
  The master also writes the worker's permit to claim its next job itself (`follow_until`)
  and acknowledges each such follow-on job (`follow_ack`).
- worker-written: `phase`, `taken_seq`, `done_seq`, `heartbeat_ns`, `job_started_ns`,
  `jobs_done`, `pages_done`, `jobs_failed`, `jobs_errored`, `current_page`, `job_flags`
  (the flags of the job it completed last, `DocumentFlags.to_bits`), and its follow-on jobs
  (a ring of `FOLLOW_RING` texts, `follow_seq`, `follow_done`). Each is one word on its own,
  stored directly, but the ring's entries, each written before `follow_seq` says it is there
  and rewritten only once the master has acknowledged it. Between two lives of a slot
  (reaped, not yet respawned) no worker exists, so the master may write them, e.g.
  `phase = Phase.DEAD`.

A job is pending while `assign_seq > taken_seq`; a follow-on runs while
`follow_seq > follow_done`.
"""

from __future__ import annotations

import itertools
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from enum import IntEnum
from multiprocessing.shared_memory import SharedMemory
from typing import Any, cast

from ocrmp import atomics
from ocrmp.atomics import AtomicOps
from ocrmp.config import MAX_POOL_SIZE
from ocrmp.pool import shm
from ocrmp.pool.record import (
    FIELDS,
    FOLLOW_JOBS,
    FOLLOW_RING,
    MASTER,
    RECORD_WORDS,
    WORD,
    Command,
    Field,
    Phase,
    Record,
    Text,
)
from ocrmp.pool.shm import (
    HEADER_WORDS,
    ForeignSlotTable,
    PoolAlreadyRunning,
    SlotTableError,
    SlotTableMissing,
    segment_name,
)
from ocrmp.vocabulary import Environment, StopReason

__all__ = ["FIELDS", "Command", "ForeignSlotTable", "Phase", "PoolAlreadyRunning", "Record",
           "Slot", "SlotSnapshot", "SlotTable", "SlotTableError", "SlotTableMissing",
           "TornRecord", "segment_name"]

LAYOUT_VERSION = 4
_SEQLOCK_SPINS = 100
_SEQLOCK_GIVE_UP_S = 2.0
_MSEQ = FIELDS["mseq"].word
_RING = set(FOLLOW_JOBS)
_TEXTS = [field for field in FIELDS.values() if isinstance(field, Text) and field not in _RING]
_FOLLOW_SEQ, _FOLLOW_ACK = FIELDS["follow_seq"].word, FIELDS["follow_ack"].word
# Words a snapshot always reads; text bytes are read only up to their length.
_FIXED_WORDS = sorted(field.word for field in FIELDS.values())
_READ_WORDS = max(field.word + 1 + (field.capacity // WORD if isinstance(field, Text) else 0)
                  for field in FIELDS.values())


class TornRecord(SlotTableError):
    """A slot stayed half-written; its master probably died while writing it."""


# Header words after the shm module's: per environment, its database's state as the master
# sees it, and since when (wall clock, ms) it has been unreachable.
H_ENV_STATE, H_ENV_DOWN_SINCE_MS = 9, 12
_ENV_OFFSET = {Environment.DEV: 0, Environment.STAGING: 1, Environment.PROD: 2}


class EnvironmentState(IntEnum):
    NOT_SERVED = 0
    REACHABLE = 1
    UNREACHABLE = 2


class SlotSnapshot(Record):
    """A whole slot record as read once; master fields are mutually consistent."""

    def __init__(self, index: int, words: list[int]) -> None:
        self.index = index
        self._words = words

    def load(self, word: int) -> int:
        return self._words[word]

    def write(self, field: Field[Any], value: Any) -> None:
        raise AttributeError(f"a snapshot is read-only: {field.name}")

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SlotSnapshot) and (self.index, self._words) == (
            other.index, other._words)

    def __hash__(self) -> int:
        return hash((self.index, tuple(self._words)))

    def __repr__(self) -> str:
        shown = ", ".join(f"{name}={getattr(self, name)!r}" for name in FIELDS if name != "mseq")
        return f"SlotSnapshot(index={self.index}, {shown})"


class Slot(Record):
    """Typed live access to one slot record: `slot.phase`, `slot.phase = Phase.IDLE`, ..."""

    def __init__(self, table: SlotTable, index: int) -> None:
        self.table = table
        self.index = index
        self._base = (HEADER_WORDS + index * RECORD_WORDS) * WORD

    def load(self, word: int) -> int:
        return self.table.ops.load(self.table.buf, self._base + word * WORD)

    def store(self, word: int, value: int) -> None:
        self.table.ops.store(self.table.buf, self._base + word * WORD, value)

    def write(self, field: Field[Any], value: Any) -> None:
        if field.writer == MASTER:
            self.update(**{field.name: value})
        elif isinstance(field, Text):
            self._store_text(field, str(value))
        else:
            self.store(field.word, field.encode(value))

    def _store_text(self, field: Text, value: str) -> None:
        # Words past the length are never read: a shorter text leaves them be.
        for offset, word in enumerate(field.words(value, self.index)):
            self.store(field.word + offset, word)

    # Master side.

    @contextmanager
    def _writing(self) -> Iterator[None]:
        seq = self.load(_MSEQ)
        self.store(_MSEQ, seq + 1)  # odd: readers retry
        try:
            yield
        finally:
            self.store(_MSEQ, seq + 2)

    def update(self, **values: Any) -> None:
        """Write master fields (text fields take str) as one consistent change."""
        fields = [FIELDS.get(name) for name in values]
        unknown = sorted(name for name, field in zip(values, fields, strict=True)
                         if field is None or field.writer != MASTER or name == "mseq")
        if unknown:
            raise AttributeError(f"not master-written slot fields: {unknown}")
        with self._writing():
            for field, value in zip(fields, values.values(), strict=True):
                assert field is not None
                if isinstance(field, Text):
                    self._store_text(field, str(value))
                else:
                    self.store(field.word, field.encode(value))

    def assign(self, *, env: str, attempt: int, kind: str, document_number: str,
               payload: str) -> int:
        """Write a job into the slot; returns its assign_seq (ring the doorbell next)."""
        seq = self.assign_seq + 1
        self.update(env=env, attempt=attempt, kind=kind, document_number=document_number,
                    payload=payload, assign_seq=seq)
        return seq

    def spawned(self, pid: int) -> int:
        """Record a freshly forked worker; returns the slot's new generation."""
        generation = self.generation + 1
        self.update(generation=generation, pid=pid, command=Command.NONE, follow_until=0)
        return generation

    def ended(self, code: int, stop: StopReason, reason: str, *, on_purpose: bool) -> None:
        """Record how the slot's worker ended (code, or minus the signal; why; why in words)
        and, its worker fields being the master's until the next one starts, mark any
        assignment or follow-on finished so the next worker does not start a job just given
        back."""
        self.update(last_exit_code=max(code, 0), last_exit_signal=max(-code, 0),
                    last_stop=stop, last_exit_reason=reason, restarts=self.restarts + 1,
                    recycles=self.recycles + on_purpose, follow_until=0,
                    follow_ack=self.follow_seq)
        self.phase = Phase.DEAD
        self.taken_seq = self.done_seq = self.assign_seq
        self.follow_done = self.follow_seq

    # Worker side.

    def follow_on(self, text: str) -> int:
        """Announce follow-on job `text` (JSON) in the next entry of the ring, which the
        master must have noted before; its follow_seq."""
        seq = self.follow_seq + 1
        assert seq - self.follow_ack <= FOLLOW_RING, "the ring's entry is not noted yet"
        self._store_text(FOLLOW_JOBS[seq % FOLLOW_RING], text)
        self.follow_seq = seq
        return seq

    def beat(self) -> None:
        """Touch the heartbeat (monotonic clock: system-wide on Linux)."""
        self.heartbeat_ns = time.monotonic_ns()

    # Readers.

    def snapshot(self) -> SlotSnapshot:
        """The whole record, retried until no master write overlapped the read."""
        deadline = 0.0
        for spin in itertools.count():
            before = self.load(_MSEQ)
            if before % 2 == 0:
                words = self._read_words()
                if self.load(_MSEQ) == before:
                    return SlotSnapshot(self.index, words)
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
        # Of the ring of follow-on jobs, those the master has not noted, and the latest.
        seq, ack = words[_FOLLOW_SEQ], words[_FOLLOW_ACK]
        ring = [FOLLOW_JOBS[n % FOLLOW_RING]
                for n in {seq, *range(max(ack + 1, seq - FOLLOW_RING + 1), seq + 1)}]
        for text in (*_TEXTS, *ring):
            used = min(max(words[text.word], 0), text.capacity)  # torn lengths are retried
            for w in range(text.word + 1, text.word + 1 + -(-used // WORD)):
                words[w] = self.load(w)
        return words


class SlotTable:
    """The shared slot table of one pool."""

    def __init__(self, segment: SharedMemory, ops: AtomicOps, *, owner: bool,
                 readonly: bool) -> None:
        self.shm = segment
        self.ops = ops
        self.owner_pid = os.getpid() if owner else 0
        self.readonly = readonly
        # A read-only view makes any write raise instead of silently changing the pool.
        self.buf: memoryview = cast(memoryview, segment.buf).toreadonly() if readonly else \
            cast(memoryview, segment.buf)
        self.nslots = shm.header_word(self.buf, ops, shm.H_NSLOTS)

    @classmethod
    def create(cls, name: str, nslots: int, *, ops: AtomicOps | None = None) -> SlotTable:
        """Create the table of pool `name`, replacing a stale one left by a dead master."""
        if not 1 <= nslots <= MAX_POOL_SIZE:
            raise SlotTableError(f"a pool has 1 to {MAX_POOL_SIZE} slots, not {nslots}")
        chosen = ops or cast(AtomicOps, atomics)
        segment = shm.create(name, table_size(nslots), (LAYOUT_VERSION, nslots, RECORD_WORDS),
                             chosen)
        return cls(segment, chosen, owner=True, readonly=False)

    @classmethod
    def attach(cls, name: str, *, readonly: bool = True,
               ops: AtomicOps | None = None) -> SlotTable:
        """Attach to the running table of pool `name` (SlotTableMissing when none)."""
        chosen = ops or cast(AtomicOps, atomics)
        segment = shm.attach(name, LAYOUT_VERSION, RECORD_WORDS * WORD, MAX_POOL_SIZE, chosen)
        return cls(segment, chosen, owner=False, readonly=readonly)

    def __enter__(self) -> SlotTable:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __len__(self) -> int:
        return self.nslots

    @property
    def name(self) -> str:
        return self.shm.name

    @property
    def master_pid(self) -> int:
        return shm.header_word(self.buf, self.ops, shm.H_MASTER_PID)

    def slot(self, index: int) -> Slot:
        if not 0 <= index < self.nslots:
            raise IndexError(f"slot {index} out of range (the pool has {self.nslots})")
        return Slot(self, index)

    def snapshot(self, index: int) -> SlotSnapshot:
        return self.slot(index).snapshot()

    def snapshots(self) -> list[SlotSnapshot]:
        return [self.snapshot(i) for i in range(self.nslots)]

    def set_environment(self, env: str, state: EnvironmentState,
                        down_since_ms: int = 0) -> None:
        """Master: publish an environment's database state for `ocrmp status`."""
        offset = _ENV_OFFSET[Environment(env)]
        self.ops.store(self.buf, (H_ENV_DOWN_SINCE_MS + offset) * WORD, down_since_ms)
        self.ops.store(self.buf, (H_ENV_STATE + offset) * WORD, state)

    def environments(self) -> dict[str, tuple[EnvironmentState, int]]:
        """The served environments: (state, unreachable since, wall clock ms)."""
        found: dict[str, tuple[EnvironmentState, int]] = {}
        for env, offset in _ENV_OFFSET.items():
            state = EnvironmentState(shm.header_word(self.buf, self.ops, H_ENV_STATE + offset))
            if state != EnvironmentState.NOT_SERVED:
                found[env.value] = (state, shm.header_word(self.buf, self.ops,
                                                           H_ENV_DOWN_SINCE_MS + offset))
        return found

    def close(self) -> None:
        """Unmap the table (idempotent); the segment itself stays."""
        self.buf.release()
        with suppress(BufferError):  # a caller still holds a view: leave the mapping
            self.shm.close()

    def unlink(self) -> None:
        """Master on exit: remove the segment. A no-op in any other process (workers)."""
        if self.owner_pid != os.getpid():
            return
        shm.unlink(self.shm)
        self.owner_pid = 0


def table_size(nslots: int) -> int:
    """Bytes of a table of nslots slots."""
    return (HEADER_WORDS + nslots * RECORD_WORDS) * WORD
