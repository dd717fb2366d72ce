"""The master's metrics: what it sees of jobs and workers, turned into Prometheus series.

Workers write their outcome to the database themselves; the master learns it from the
counters a worker bumps in its slot (jobs_done, jobs_failed, jobs_errored, pages_done) between the
hand-over and the finish, and a done job's flags from the slot's job_flags.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from ocrmp.config import Settings
from ocrmp.flags import DocumentFlags
from ocrmp.metrics import DatabaseSnapshot, MetricsServer, PoolMetrics, serve
from ocrmp.pool.slots import SlotSnapshot
from ocrmp.store import Job

log = logging.getLogger("ocrmp.master")


@dataclass
class Handed:
    """The slot's counters when a job was handed over, to tell how it ended."""

    at: float
    jobs_done: int
    jobs_failed: int
    jobs_errored: int
    pages_done: int


class Observer:
    def __init__(self, settings: Settings) -> None:
        self.metrics = PoolMetrics()
        self.server: MetricsServer | None = None
        self.snapshot: DatabaseSnapshot | None = None
        self.handed: dict[int, Handed] = {}
        if settings.metrics_port is not None:
            self.snapshot = DatabaseSnapshot(settings.environments)
            self.metrics.set_queue_source(self.snapshot)
            self.server = serve(self.metrics, settings.metrics_host, settings.metrics_port)
            log.info("Metrics on http://%s:%d/metrics", self.server.host, self.server.port)

    def handed_over(self, slot: int, job: Job, snap: SlotSnapshot) -> None:
        self.metrics.job_claimed(job.env, job.kind)
        self.handed[slot] = Handed(time.monotonic(), snap.jobs_done, snap.jobs_failed,
                                   snap.jobs_errored, snap.pages_done)

    def finished(self, slot: int, job: Job, snap: SlotSnapshot) -> None:
        handed = self.handed.pop(slot, None)
        if handed is None:
            return
        seconds = time.monotonic() - handed.at
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

    def released(self, slot: int, job: Job) -> None:
        handed = self.handed.pop(slot, None)
        seconds = time.monotonic() - handed.at if handed else 0.0
        self.metrics.job_finished(job.env, job.kind, "released", seconds, 0)

    def exited(self, name: str, reason: str, recycle_reason: str) -> None:
        self.metrics.worker_exited(reason)
        self.metrics.forget_worker(name)
        if recycle_reason:
            self.metrics.recycled(recycle_reason)

    def in_child(self) -> None:
        if self.server is not None:
            self.server.close_in_child()

    def close(self) -> None:
        if self.server is not None:
            self.server.shutdown()
        if self.snapshot is not None:
            self.snapshot.close()
