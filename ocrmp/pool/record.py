"""The fields of a slot record, each declared once with its one writer, and their layout.

A field is a signed 64-bit word; an enum is kept as its value (IntEnum) or its position (a
str enum of the vocabulary); a text is a length word and its UTF-8 bytes. Master fields come
first, under the record's seqlock word `mseq`; worker fields start on their own cache line
so a worker's heartbeat does not bounce the line the master writes. The worker's texts, a
ring of the follow-on jobs it claimed (`follow_job_0` ...), need no seqlock: the worker
writes the entry of follow-on n before bumping `follow_seq` to n, and only once the master
has acknowledged (`follow_ack`) the one that entry held before.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from enum import Enum, IntEnum
from typing import Any, Generic, TypeVar, overload

from ocrmp.pool.shm import WORD
from ocrmp.vocabulary import Environment, Kind, StopReason

RECORD_WORDS = 1360
_WORKER_BASE = 176  # first worker word: its own cache line (176 * 8 = 22 * 64)
FOLLOW_RING = 8  # follow-on jobs a worker may claim before its master notes them
MASTER, WORKER = "master", "worker"
DOCUMENT_NUMBER_BYTES = 64  # a label for people: cut to fit


class Phase(IntEnum):
    """Worker-written state of a slot. Zero (a fresh table) reads as DEAD."""

    DEAD = 0
    STARTING = 1
    IDLE = 2
    BUSY = 3
    DRAINING = 4
    EXITING = 5


class Command(IntEnum):
    NONE = 0
    STOP = 1
    RECYCLE = 2
    DRAIN = 3


T = TypeVar("T")
E = TypeVar("E", bound=Enum)


def _coded(enum: type[E]) -> tuple[Callable[[int], E], Callable[[Any], int]]:
    """A word for a member of a str enum: its position (a fresh table reads as the first)."""
    members: Sequence[E] = list(enum)
    return members.__getitem__, lambda member: member if isinstance(member, int) \
        else members.index(member)


class Field(Generic[T]):
    """One word of a slot record: its writer, and how its value is kept in the word."""

    def __init__(self, writer: str, decode: Callable[[int], T],
                 encode: Callable[[Any], int] = int) -> None:
        self.writer = writer
        self.decode = decode
        self.encode = encode
        self.name = ""
        self.word = -1  # set by _lay_out

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    @overload
    def __get__(self, record: None, owner: type) -> Field[T]: ...
    @overload
    def __get__(self, record: Record, owner: type) -> T: ...

    def __get__(self, record: Record | None, owner: type) -> Field[T] | T:
        if record is None:
            return self
        return self.read(record)

    def read(self, record: Record) -> T:
        return self.decode(record.load(self.word))

    def __set__(self, record: Record, value: T) -> None:
        record.write(self, value)


class Text(Field[str]):
    """A text: a length word, then its UTF-8 bytes."""

    def __init__(self, capacity: int, *, cut: bool, writer: str = MASTER) -> None:
        super().__init__(writer, str)
        self.capacity = capacity
        self.cut = cut  # labels for people are cut to fit; the payload is refused instead

    def read(self, record: Record) -> str:
        length = min(max(record.load(self.word), 0), self.capacity)
        raw = b"".join(record.load(self.word + 1 + i).to_bytes(WORD, "little", signed=True)
                       for i in range(-(-length // WORD)))
        return raw[:length].decode("utf-8", "replace")

    def words(self, text: str, index: int) -> list[int]:
        data = truncate_utf8(text, self.capacity) if self.cut else text.encode()
        if len(data) > self.capacity:
            raise ValueError(f"slot {index}: {self.name} of {len(data)} bytes does not fit "
                             f"in {self.capacity}")
        padded = data.ljust(-(-len(data) // WORD) * WORD, b"\0")
        return [len(data)] + [int.from_bytes(padded[i:i + WORD], "little", signed=True)
                              for i in range(0, len(padded), WORD)]


_KIND = _coded(Kind)
_ENV = _coded(Environment)
_STOP = _coded(StopReason)


class Record:
    """The fields of a slot, each declared once: `Slot` reads them live from shared memory,
    `SlotSnapshot` from one consistent copy."""

    index: int
    mseq = Field(MASTER, int)
    generation = Field(MASTER, int)
    pid = Field(MASTER, int)
    mode = Field(MASTER, *_KIND)
    command = Field(MASTER, Command)
    assign_seq = Field(MASTER, int)
    env = Field(MASTER, *_ENV)
    attempt = Field(MASTER, int)
    kind = Field(MASTER, *_KIND)
    memory_rss = Field(MASTER, int)
    memory_uss = Field(MASTER, int)
    restarts = Field(MASTER, int)
    recycles = Field(MASTER, int)
    last_exit_code = Field(MASTER, int)
    last_exit_signal = Field(MASTER, int)
    last_stop = Field(MASTER, *_STOP)
    breaker_tripped = Field(MASTER, int)
    # The worker may claim its next job, of `follow_kind`, with its completion while
    # jobs_done + 1 is below this (0: never); `follow_ack`: the last `follow_seq` noted.
    follow_until = Field(MASTER, int)
    follow_kind = Field(MASTER, *_KIND)
    follow_ack = Field(MASTER, int)
    document_number = Text(DOCUMENT_NUMBER_BYTES, cut=True)
    last_exit_reason = Text(96, cut=True)
    payload = Text(1024, cut=False)  # the job's other details, JSON
    phase = Field(WORKER, Phase)
    taken_seq = Field(WORKER, int)
    done_seq = Field(WORKER, int)
    heartbeat_ns = Field(WORKER, int)
    job_started_ns = Field(WORKER, int)
    jobs_done = Field(WORKER, int)
    pages_done = Field(WORKER, int)
    jobs_failed = Field(WORKER, int)
    jobs_errored = Field(WORKER, int)  # failures that ended the job in 4, not retried
    current_page = Field(WORKER, int)
    job_flags = Field(WORKER, int)  # the last completed job's flags (DocumentFlags.to_bits)
    follow_seq = Field(WORKER, int)  # follow-on jobs claimed by the worker itself, so far
    follow_done = Field(WORKER, int)  # the follow_seq of the last follow-on it finished

    def load(self, word: int) -> int:
        raise NotImplementedError

    def write(self, field: Field[Any], value: Any) -> None:
        raise NotImplementedError

    @property
    def pending(self) -> bool:
        """An assignment is written that the worker has not taken yet."""
        return self.assign_seq > self.taken_seq

    @property
    def following(self) -> bool:
        """The worker is on a follow-on job it claimed itself (`follow_job(follow_seq)`)."""
        return self.follow_seq > self.follow_done

    def follow_job(self, seq: int) -> str:
        """Follow-on job number `seq`, as the worker wrote it (JSON)."""
        return FOLLOW_JOBS[seq % FOLLOW_RING].read(self)


# The ring of follow-on jobs: entry n % FOLLOW_RING holds follow-on n, JSON.
FOLLOW_JOBS = [Text(1152, cut=False, writer=WORKER) for _ in range(FOLLOW_RING)]
for _n, _entry in enumerate(FOLLOW_JOBS):
    setattr(Record, f"follow_job_{_n}", _entry)
    _entry.__set_name__(Record, f"follow_job_{_n}")


def _lay_out() -> dict[str, Field[Any]]:
    fields = {name: value for name, value in vars(Record).items() if isinstance(value, Field)}
    word = 0
    for field in fields.values():
        if field.writer == MASTER:
            field.word = word
            word += 1 + field.capacity // WORD if isinstance(field, Text) else 1
    assert word <= _WORKER_BASE
    word = _WORKER_BASE
    for field in fields.values():
        if field.writer == WORKER:
            field.word = word
            word += 1 + field.capacity // WORD if isinstance(field, Text) else 1
    assert word <= RECORD_WORDS
    return fields


FIELDS = _lay_out()


def truncate_utf8(text: str, limit: int) -> bytes:
    """text encoded as UTF-8, cut to at most limit bytes without splitting a character."""
    return text.encode("utf-8")[:limit].decode("utf-8", "ignore").encode("utf-8")
