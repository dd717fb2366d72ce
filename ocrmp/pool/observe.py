"""What the master reports: Prometheus series of jobs and workers, the pool's gauges and
liveness, and its entry in the fleet.

Workers write their outcome to the database themselves; the master learns it from the
counters a worker bumps in its slot (jobs_done, jobs_failed, jobs_errored, pages_done) between
the hand-over and the finish, and a done job's flags from the slot's job_flags.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from ocrmp import __version__
from ocrmp.config import Settings
from ocrmp.flags import DocumentFlags
from ocrmp.fleet import WorkerInfo
from ocrmp.metrics import DatabaseSnapshot, MetricsServer, PoolMetrics, serve
from ocrmp.pool.coordination import Coordination
from ocrmp.pool.every import Every
from ocrmp.pool.scheduler import EnvHealth
from ocrmp.pool.slots import EnvironmentState, SlotTable
from ocrmp.pool.workerslot import SlotState
from ocrmp.store import Job
from ocrmp.vocabulary import MODES, StopReason

log = logging.getLogger("ocrmp.master")


class Counted(Protocol):
    """The worker's counters: its slot, or what it noted with a follow-on job."""

    @property
    def jobs_done(self) -> int: ...
    @property
    def jobs_failed(self) -> int: ...
    @property
    def jobs_errored(self) -> int: ...
    @property
    def pages_done(self) -> int: ...
    @property
    def job_flags(self) -> int: ...


@dataclass
class Handed:
    """The slot's counters when a job was handed over, to tell how it ended."""

    at: float
    jobs_done: int
    jobs_failed: int
    jobs_errored: int
    pages_done: int


class Observer:
    def __init__(self, settings: Settings, clock: Callable[[], float] = time.monotonic) -> None:
        self.settings = settings
        self.clock = clock
        self.metrics = PoolMetrics()
        self.server: MetricsServer | None = None
        self.snapshot: DatabaseSnapshot | None = None
        self.handed: dict[int, Handed] = {}
        # Gauges and /healthz's proof of life every 100 ms rather than on every pass.
        self.reporting = Every(0.1, clock=clock)

    def serve(self) -> None:
        """Serve /metrics and /healthz when a port is configured."""
        settings = self.settings
        if settings.metrics_port is not None:
            self.snapshot = DatabaseSnapshot(settings.environments)
            self.metrics.set_queue_source(self.snapshot)
            self.server = serve(self.metrics, settings.metrics_host, settings.metrics_port)
            log.info("Metrics on http://%s:%d/metrics", self.server.host, self.server.port)

    def starting(self, size: int, coordination: Coordination) -> None:
        settings = self.settings
        limits = coordination.describe_limits().items()
        log.info("ocrmp pool starting", extra={
            "pool": settings.pool_name, "version": __version__, "size": size,
            "environments": ",".join(settings.environments),
            "engine": settings.runner or settings.ocr.engine,
            "pid": os.getpid(),
            "rate_limits": ",".join(f"{env}={rate}" for env, rate in limits) or "none",
            "redis": "yes" if settings.redis_url else "no"})

    def handed_over(self, slot: int, job: Job, snap: Counted) -> None:
        self.metrics.job_claimed(job.env, job.kind)
        self.handed[slot] = Handed(self.clock(), snap.jobs_done, snap.jobs_failed,
                                   snap.jobs_errored, snap.pages_done)

    def finished(self, slot: int, job: Job, snap: Counted) -> None:
        handed = self.handed.pop(slot, None)
        if handed is None:
            return
        seconds = self.clock() - handed.at
        pages = snap.pages_done - handed.pages_done
        if snap.jobs_done > handed.jobs_done:
            outcome = "done"
        elif snap.jobs_errored > handed.jobs_errored:
            outcome = "error"
        elif snap.jobs_failed > handed.jobs_failed:
            outcome = "retry"
        else:
            outcome = "released"  # its attempt was taken away (stale)
        self.metrics.job_finished(job.env, job.kind, outcome, seconds, pages)
        if outcome == "done":
            self.metrics.job_flagged(job.env, job.kind, DocumentFlags.from_bits(snap.job_flags))

    def released(self, slot: int, job: Job, *, given_back: bool = False) -> None:
        handed = self.handed.pop(slot, None)
        seconds = self.clock() - handed.at if handed else 0.0
        self.metrics.job_finished(job.env, job.kind, "released", seconds, 0)
        if given_back:
            self.metrics.job_given_back(job.env, job.kind)

    def exited(self, name: str, reason: StopReason, recycled: StopReason | None) -> None:
        """Count a worker's end, and its recycling (why it was told to leave) if it was."""
        self.metrics.worker_exited(reason)
        self.metrics.forget_worker(name)
        if recycled is not None:
            self.metrics.recycled(recycled)

    def report(self, desired: int, live: Sequence[SlotState], capacity: int,
               coordination: Coordination) -> None:
        """The pool's gauges for the metrics endpoint, and proof the loop is alive."""
        if not self.reporting.due():
            return
        self.metrics.heartbeat()
        busy = sum(1 for s in live if s.job is not None)
        self.metrics.set_pool(desired, len(live), busy, len(live) - busy, capacity)
        self.metrics.set_rate_limit_state(coordination.limiter_state)

    def report_environments(self, health: Mapping[str, EnvHealth], table: SlotTable) -> None:
        """Which databases the pool reaches, for /healthz and `ocrmp status`."""
        self.metrics.set_environments(health)
        for env, seen in health.items():
            state = EnvironmentState.REACHABLE if seen.reachable else EnvironmentState.UNREACHABLE
            table.set_environment(env, state, int((seen.down_since or 0) * 1000))

    def publish(self, coordination: Coordination, desired: int, live: Sequence[SlotState],
                table: SlotTable) -> None:
        """Tell the fleet (Redis, keys with a TTL) who we are and what each worker does."""
        coordination.maintain()
        if coordination.registry is None or not coordination.publishing.due():
            return
        workers = []
        modes = dict.fromkeys(MODES, 0)
        for state in live:
            snap = table.snapshot(state.index)
            modes[snap.mode] += 1
            job = state.job
            workers.append(WorkerInfo(
                slot=state.index, pid=state.pid, mode=snap.mode, phase=snap.phase.name.lower(),
                job_id=job.id if job else None, job_env=job.env if job else None,
                document_number=job.document_number if job else None,
                jobs_done=snap.jobs_done, memory_bytes=snap.memory_rss))
        coordination.publish(desired, {str(mode): n for mode, n in modes.items()}, workers)

    def in_child(self) -> None:
        if self.server is not None:
            self.server.close_in_child()

    def close(self) -> None:
        if self.server is not None:
            self.server.shutdown()
        if self.snapshot is not None:
            self.snapshot.close()
