"""Recycling, in place of PM2's `max_memory_restart`: which workers to end, and why.

Each check returns `Decision`s (a slot, its StopReason, the reason in words); the master
applies them. Memory is sampled every second (the worker and its children); a worker over
the soft limit is recycled after its job, over the hard limit killed now. A worker silent
for longer than the job timeout is killed; one whose job budget is spent is recycled, as
are workers past the pool's size when it shrinks (TTOU, or host memory under the reserve),
and every worker, one at a time, on HUP.
"""

from __future__ import annotations

import logging
import random
from collections import deque
from collections.abc import Callable, Sequence

from ocrmp.config import Settings
from ocrmp.pool import policy
from ocrmp.pool.every import Every
from ocrmp.pool.memory import HostMemory, TreeMemory, host_memory, tree_memory
from ocrmp.pool.slots import Phase, SlotTable
from ocrmp.pool.workerslot import Decision, SlotState
from ocrmp.vocabulary import StopReason

log = logging.getLogger("ocrmp.master")

MemoryReport = Callable[[str, int, int], None]  # worker name, rss, uss


class Recycler:
    def __init__(self, settings: Settings, clock: Callable[[], float], rng: random.Random,
                 report: MemoryReport, *, measure: Callable[[int], TreeMemory | None] =
                 tree_memory, host: Callable[[], HostMemory | None] = host_memory) -> None:
        self.settings = settings
        self.rng = rng
        self.report = report
        self.measure = measure
        self.host = host
        self.sampling = Every(1.0, clock=clock)
        self.checking = Every(1.0, clock=clock)
        self.capacity = settings.size
        self.memory_pressure = False
        self.replacing: deque[int] = deque()

    def jobs_limit(self) -> int:
        """A new worker's job budget (0: none), jittered so workers do not recycle at once."""
        return policy.jobs_limit(self.settings.max_jobs_per_worker,
                                 self.settings.max_jobs_jitter, self.rng)

    def sample_memory(self, live: Sequence[SlotState], table: SlotTable) -> list[Decision]:
        if not self.sampling.due():
            return []
        decisions = []
        for state in live:
            usage = self.measure(state.pid)
            if usage is None:
                continue
            table.slot(state.index).update(memory_rss=usage.rss, memory_uss=usage.uss)
            self.report(state.name, usage.rss, usage.uss)
            verdict = policy.memory_verdict(usage.rss, self.settings.max_memory,
                                            self.settings.hard_memory_limit)
            if verdict.stop is StopReason.MEMORY_HARD and not state.killed or \
                    verdict.stop is StopReason.MEMORY_SOFT and not state.recycled:
                decisions.append(Decision(state, verdict.stop, verdict.reason))
        return decisions

    def overdue(self, live: Sequence[SlotState], table: SlotTable,
                now: float) -> list[Decision]:
        """Busy workers silent for longer than the job timeout (heartbeats on `now`'s clock)."""
        decisions = []
        for state in live:
            slot = table.slot(state.index)
            silent_s = now - slot.heartbeat_ns / 1e9
            if not state.killed and slot.phase == Phase.BUSY and \
                    silent_s > self.settings.job_timeout_s:
                decisions.append(Decision(state, StopReason.TIMEOUT,
                                          f"job timeout: no progress for {silent_s:.0f}s"))
        return decisions

    def check_capacity(self, desired: int) -> int:
        """Workers the host's memory carries now: one less under the reserve, one more back."""
        if not self.checking.due():
            return self.capacity
        memory = self.host()
        if memory is None:  # unreadable this time: keep the last decision
            return self.capacity
        reserve = self.settings.memory_reserve
        self.memory_pressure = memory.share_available < reserve
        target = policy.capacity_target(desired, self.capacity, memory.available, memory.total,
                                        reserve)
        if target != self.capacity:  # shrinking needs a look; growing back is the cure
            log.log(logging.WARNING if target < self.capacity else logging.INFO,
                    "Host memory %.0f%% available (reserve %.0f%%): pool size %d → %d",
                    100 * memory.share_available, 100 * reserve, self.capacity, target)
            self.capacity = target
        return self.capacity

    def shrink(self, slots: Sequence[SlotState], size: int) -> list[Decision]:
        return [Decision(state, StopReason.SHRINK, "pool shrunk") for state in slots[size:]
                if state.pid and not state.recycled]

    def budget(self, live: Sequence[SlotState], table: SlotTable) -> list[Decision]:
        decisions = []
        for state in live:
            if state.jobs_limit and not state.recycled:
                done = table.slot(state.index).jobs_done - state.jobs_at_spawn
                if done >= state.jobs_limit:
                    decisions.append(Decision(state, StopReason.MAX_JOBS,
                                              f"{done} jobs done (limit {state.jobs_limit})"))
        return decisions

    def start_replacing(self, live: Sequence[SlotState]) -> int:
        """HUP: replace every live worker, one at a time."""
        self.replacing = deque(state.index for state in live)
        return len(self.replacing)

    def replacement(self, slots: Sequence[SlotState], table: SlotTable) -> list[Decision]:
        """The next worker to replace, once the last one is back (started, not starting)."""
        live = [state for state in slots if state.pid]
        if not self.replacing or any(state.recycled and state.recycled.reason is
                                     StopReason.RELOAD for state in live):
            return []
        if any(table.slot(state.index).phase == Phase.STARTING for state in live):
            return []
        state = slots[self.replacing.popleft()]
        return [Decision(state, StopReason.RELOAD, "reload")] if state.pid else []
