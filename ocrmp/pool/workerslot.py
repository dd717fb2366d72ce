"""What the master keeps of each worker slot between passes, and how it makes and ends
worker processes (the os calls, injectable so the loop can be tested without forking)."""

from __future__ import annotations

import contextlib
import os
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import IntEnum
from typing import NamedTuple

from ocrmp.config import Settings
from ocrmp.pool import policy
from ocrmp.pool.doorbell import Doorbell
from ocrmp.store import Job
from ocrmp.vocabulary import StopReason


class Stopping(IntEnum):
    """How far the pool is in stopping."""

    NO = 0
    GRACEFUL = 1  # running jobs finish within the graceful timeout
    FAST = 2  # running jobs are released now


@dataclass
class SlotState:
    """What the master remembers of a slot between passes."""

    index: int
    bell: Doorbell
    pid: int = 0
    generation: int = 0
    jobs_at_spawn: int = 0
    jobs_limit: int = 0
    next_spawn_at: float = 0.0
    deaths: deque[float] = field(default_factory=lambda: deque(maxlen=32))
    consecutive_deaths: int = 0
    tripped: bool = False
    killed: Decision | None = None  # signalled: SIGKILL follows at kill_deadline
    kill_deadline: float = 0.0
    recycled: Decision | None = None  # told to leave after its current job
    job: Job | None = None
    job_seq: int = 0  # the assign_seq of `job` when the master handed it over
    follow: int = 0  # the follow_seq of `job` when the worker claimed it itself
    last_job: Job | None = None  # a follow-on claim would come with its completion
    may_follow: bool = False  # allowed to claim a job itself at some point of this life

    @property
    def name(self) -> str:
        return f"ocr-worker-{self.index + 1}"

    def worker_id(self, host: str, pool: str) -> str:
        return f"{host}/{pool}/{self.name}.{self.generation}"

    @property
    def leaving(self) -> Decision | None:
        """Why the master is ending this worker, if it is (a kill outranks a recycle)."""
        return self.killed or self.recycled

    @property
    def why(self) -> str:
        """The master's reason for ending it, in words; "" when it ended on its own."""
        if self.killed:
            return self.killed.detail
        return f"recycled: {self.recycled.detail}" if self.recycled else ""

    def died(self, now: float, useful: bool, settings: Settings) -> bool:
        """Count a death and set when to respawn: at once after a useful life (a job done,
        or ended on purpose), with backoff otherwise. True when the breaker trips now."""
        if useful:
            self.consecutive_deaths = 0
            self.next_spawn_at = now
            return False
        self.consecutive_deaths += 1
        self.deaths.append(now)
        self.next_spawn_at = now + policy.respawn_delay(self.consecutive_deaths)
        self.tripped = policy.breaker_tripped(self.deaths, now, settings.breaker_failures,
                                              settings.breaker_window_s)
        return self.tripped

    def born(self, pid: int, generation: int, jobs_done: int, jobs_limit: int) -> None:
        self.pid, self.generation = pid, generation
        self.jobs_at_spawn, self.jobs_limit = jobs_done, jobs_limit
        self.killed = self.recycled = None
        self.may_follow = False


class Decision(NamedTuple):
    """The master's decision to end a worker: which, why, and why in words for the log."""

    state: SlotState
    reason: StopReason
    detail: str


@dataclass(frozen=True)
class Processes:
    """The process calls of the master; tests give fakes."""

    fork: Callable[[], int] = os.fork
    waitpid: Callable[[int, int], tuple[int, int]] = os.waitpid
    killpg: Callable[[int, int], None] = os.killpg
    kill: Callable[[int, int], None] = os.kill
    setpgid: Callable[[int, int], None] = os.setpgid

    # A pid of 0 or less names no worker: killpg(0) and kill(0) would signal the master's
    # own process group (and whatever started it), so they are never sent.
    def kill_group(self, pgid: int, signum: int) -> None:
        if pgid > 0:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                self.killpg(pgid, signum)

    def signal(self, pid: int, signum: int) -> None:
        if pid > 0:
            with contextlib.suppress(ProcessLookupError):
                self.kill(pid, signum)
