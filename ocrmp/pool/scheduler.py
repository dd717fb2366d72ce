"""The master's side of the queue: claiming for idle workers, wake-ups, leases, rescue.

One JobStore and one LISTEN connection per enabled environment. An environment whose
database is down (at start or later) is skipped and retried with backoff while the others
keep working; its migrations are checked on first contact, so a database that comes up
unmigrated is reported, never claimed from.
"""

from __future__ import annotations

import functools
import logging
import random
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from ocrmp.config import Settings
from ocrmp.errors import DatabaseError, StaleAttempt
from ocrmp.pool.every import Every
from ocrmp.pool.listener import ReadyListener
from ocrmp.pool.policy import backoff, claim_wishes, environment_order
from ocrmp.store import Job, JobRef, JobStore

log = logging.getLogger("ocrmp.scheduler")
T = TypeVar("T")


@dataclass
class EnvState:
    """Health and timers of one environment."""

    name: str
    store: JobStore
    listener: ReadyListener
    renewing: Every
    rescuing: Every
    down_until: float = 0.0
    failures: int = 0
    depths: dict[str, int] = field(default_factory=dict)
    migrated: bool = False  # its migrations were found complete once
    down_since: float | None = None  # wall clock, for status and /healthz
    error: str = ""

    def up(self, now: float) -> bool:
        return now >= self.down_until


@dataclass(frozen=True)
class EnvHealth:
    """What the pool knows of an environment's database right now."""

    reachable: bool
    down_since: float | None = None  # wall clock (time.time())
    error: str = ""


@dataclass(frozen=True)
class IdleWorker:
    slot: int
    worker_id: str
    mode: str


class Scheduler:
    def __init__(self, settings: Settings, rng: random.Random | None = None,
                 allow: Callable[[str, int], tuple[int, float]] | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.settings = settings
        self.clock = clock
        self.allow = allow or (lambda env, wanted: (wanted, 0.0))
        self.not_before = 0.0  # a rate limit said: no claim before this (monotonic)
        self.rng = rng = rng or random.Random()
        self.envs = {name: EnvState(name, JobStore(dsn, name, application_name="ocrmp-master"),
                                    ReadyListener(name, dsn),
                                    renewing=Every(lambda: self.settings.lease_s / 3,
                                                   clock=clock),
                                    rescuing=Every(lambda: self.settings.rescue_interval_s,
                                                   0.2, clock, rng))
                     for name, dsn in settings.environments.items()}
        self.claim_due = True
        # The poll is the backstop of LISTEN; depths are counted as often as modes rebalance.
        self.polling = Every(lambda: self.settings.poll_interval_s, 0.25, clock, rng)
        self.counting = Every(lambda: self.settings.rebalance_interval_s, clock=clock)
        self.tick_count = 0
        self.last_claim_empty = False
        self.limited = False
        self.unreleased: list[tuple[Job, str]] = []  # releases the database refused so far

    def reconfigure(self, settings: Settings) -> None:
        """HUP: the new settings, and a claim at once: the wait an old rate limit set may
        not hold under the new one (the new limiter decides)."""
        self.settings = settings
        self.not_before = 0.0
        self.claim_due = True

    # -- wake-ups ---------------------------------------------------------------------

    def listeners(self) -> list[ReadyListener]:
        return [env.listener for env in self.envs.values()]

    def notified(self, listener: ReadyListener) -> None:
        """Rows became ready: claim, and count that environment's queue again (the
        notification says nothing of them)."""
        if listener.drain():
            self.claim_due = True
            env = self.envs[listener.env]
            if env.up(self.clock()):
                self._guard(env, self.clock(),
                            lambda e: setattr(e, "depths", e.store.ready_depths()))

    def maintain(self, now: float) -> None:
        """Reconnect listeners, poll as a backstop, refresh depths."""
        for env in self.envs.values():
            env.listener.ensure(now)
        if self.polling.due():
            self.claim_due = True

    def depths(self) -> dict[str, int]:
        """Claimable jobs per kind across enabled environments (last known)."""
        total: dict[str, int] = {}
        for env in self.envs.values():
            for kind, n in env.depths.items():
                total[kind] = total.get(kind, 0) + n
        return total

    def refresh_depths(self, now: float, force: bool = False) -> dict[str, int]:
        if self.counting.due() or force:
            for env in self._up(now):
                self._guard(env, now, lambda e: setattr(e, "depths", e.store.ready_depths()))
        return self.depths()

    def next_deadline(self) -> float:
        deadline = min(self.polling.deadline, self.counting.deadline)
        return min(deadline, self.not_before) if self.claim_due and self.limited else deadline

    def ready_to_claim(self, now: float) -> bool:
        return self.claim_due and now >= self.not_before

    # -- claiming ---------------------------------------------------------------------

    def claim(self, now: float, idle: Sequence[IdleWorker]) -> list[tuple[IdleWorker, Job]]:
        """At most one job per idle worker, one statement per environment, prod first."""
        if not idle or not self.claim_due or now < self.not_before:
            return []
        self.tick_count += 1
        self.limited = False
        waiting = {worker.worker_id: worker for worker in idle}
        handed: list[tuple[IdleWorker, Job]] = []
        for name in environment_order(list(self.envs), self.tick_count):
            env = self.envs[name]
            if not waiting or not env.up(now):
                continue
            jobs = self._claim_env(env, now, list(waiting.values()))
            for job in jobs:
                handed.append((waiting.pop(job.worker_id), job))
        # Nothing claimed for someone: wait for a NOTIFY, a finished job or the poll.
        self.claim_due = (bool(handed) and bool(waiting)) or self.limited
        self.last_claim_empty = not handed
        return handed

    def _claim_env(self, env: EnvState, now: float, idle: list[IdleWorker]) -> list[Job]:
        wishes = claim_wishes([(w.worker_id, w.mode) for w in idle], env.depths)
        allowed, retry_in = self.allow(env.name, len(wishes))  # the rate limit, if any
        if allowed < len(wishes):
            self.not_before = now + retry_in
            self.limited = True
        wishes = wishes[:allowed]
        if not wishes:
            return []
        jobs = self._guard(env, now, lambda e: e.store.claim(wishes, self.settings.lease_s)) or []
        for job in jobs:
            env.depths[job.kind] = max(0, env.depths.get(job.kind, 1) - 1)
        asked = {kind: sum(1 for _, k in wishes if k == kind) for _, kind in wishes}
        got = {kind: sum(1 for job in jobs if job.kind == kind) for kind in asked}
        for kind in asked:
            if got[kind] < asked[kind]:
                env.depths[kind] = 0  # fewer than asked: nothing more waits of that kind
        return jobs

    def took(self, job: Job) -> None:
        """A worker claimed `job` itself, with its last completion."""
        depths = self.envs[job.env].depths
        depths[job.kind] = max(0, depths.get(job.kind, 1) - 1)

    def waiting_in_one_env(self, kind: str) -> bool:
        """Jobs of `kind` wait (as last known) in at most one environment: a worker that
        claims its next one where it is takes nothing another environment should have had
        first (prod first, the others in turn)."""
        return sum(1 for env in self.envs.values() if env.depths.get(kind, 0) > 0) <= 1

    # -- leases and rescue --------------------------------------------------------------

    def renew(self, now: float, inflight: Iterable[Job]) -> None:
        by_env: dict[str, list[JobRef]] = {}
        for job in inflight:
            by_env.setdefault(job.env, []).append(job.ref)
        for env in self.envs.values():
            if not env.up(now) or not env.renewing.due():
                continue
            refs = by_env.get(env.name, [])
            if refs:
                self._guard(env, now, functools.partial(_renew, refs=refs,
                                                        lease_s=self.settings.lease_s))

    def rescue(self, now: float) -> None:
        for env in self._up(now):
            if not env.rescuing.due():
                continue
            rows = self._guard(env, now, lambda e: e.store.rescue_expired()) or []
            for row in rows:
                log.warning("Rescued job with an expired lease", extra={
                    "env": env.name, "job_id": str(row["id"]), "status_id": row["status_id"],
                    "document_number": row["document_number"],
                    "attempt_given_back": row["attempt_given_back"]})
            if rows:
                self.claim_due = True
            if self.settings.skip_plans:
                self._guard(env, now, lambda e: e.store.skip_plans())

    def release(self, job: Job, reason: str, *, started: bool) -> None:
        """Give a job back now (its worker died or the pool stops). A started job's attempt
        counts (`started`: its document's doing): when the database refuses, the release is
        retried once it is back, so a worker killed for memory or time counts its attempt
        even across an outage (a lease expiry would give the attempt back). Otherwise the
        attempt is undone; if the database refuses that, the lease expiry gives it back."""
        try:
            self._give_back(job, reason, started)
        except DatabaseError as error:
            if started:
                self.unreleased.append((job, reason))
            log.error("Could not release job %s (retried when the database is back, while "
                      "its lease lasts): %s", job.id, error)

    def refuse(self, job: Job, error: str) -> None:
        """End a claimed job in 4 before any worker has it: the pool cannot serve it. If
        the database refuses, its lease expires and rescue gives it back."""
        try:
            self.envs[job.env].store.fail(job.ref, error, permanent=True)
        except (DatabaseError, StaleAttempt) as failure:
            log.error("Could not end job %s in error: %s", job.id, failure)

    def unclaim_follow_on(self, last: Job) -> None:
        """A dead worker may have claimed a job with the completion of its last one, `last`,
        and died before telling: give it back. If the database refuses, its lease expires
        and rescue gives it back."""
        try:
            rows = self.envs[last.env].store.unclaim_follow_on(last.ref)
        except DatabaseError as error:
            log.error("Could not look for a job %s claimed before dying (rescued once its "
                      "lease expires): %s", last.worker_id, error)
            return
        for row in rows:
            log.info("Released job", extra={
                "env": last.env, "job_id": str(row["id"]),
                "document_number": row["document_number"], "status_id": row["status_id"],
                "reason": f"{last.worker_id} died before starting it"})
        self.claim_due = self.claim_due or bool(rows)

    def retry_releases(self, now: float) -> None:
        pending, self.unreleased = self.unreleased, []
        for job, reason in pending:
            env = self.envs[job.env]
            try:
                if not env.up(now):
                    raise DatabaseError("not retried yet")
                self._give_back(job, reason, started=True)
            except DatabaseError as error:
                self.unreleased.append((job, reason))
                if env.up(now):
                    self._mark_down(env, now, error)

    def _give_back(self, job: Job, reason: str, started: bool) -> None:
        store = self.envs[job.env].store
        try:
            status = store.release(job.ref, reason) if started else \
                store.unclaim(job.ref, reason)
        except StaleAttempt:
            return  # the worker wrote its outcome before dying, or a rescue came first
        log.info("Released job", extra={"env": job.env, "job_id": job.id,
                                        "document_number": job.document_number,
                                        "status_id": status, "reason": reason})
        self.claim_due = True

    # -- environment health -----------------------------------------------------------

    def _up(self, now: float) -> list[EnvState]:
        return [env for env in self.envs.values() if env.up(now)]

    def _guard(self, env: EnvState, now: float, action: Callable[[EnvState], T]) -> T | None:
        try:
            if not env.migrated:
                _check_migrated(env)
            result = action(env)
        except DatabaseError as error:
            self._mark_down(env, now, error)
            return None
        if env.failures:
            log.info("Environment %s is back", env.name, extra={"env": env.name})
            env.failures = 0
        env.down_since, env.error = None, ""
        return result

    def _mark_down(self, env: EnvState, now: float, error: DatabaseError) -> None:
        env.failures += 1
        # Database outages are mostly restarts: retry often enough to be back within
        # seconds, never more than every 5 s.
        env.down_until = now + backoff(env.failures, 0.5, 5.0, self.rng)
        env.error = str(error)
        if env.down_since is None:
            env.down_since = time.time()
        if env.failures == 1:
            log.error("Environment %s unavailable, retrying with backoff: %s",
                      env.name, error, extra={"env": env.name})

    def health(self) -> dict[str, EnvHealth]:
        return {name: EnvHealth(env.down_since is None, env.down_since, env.error)
                for name, env in self.envs.items()}

    def close(self) -> None:
        for env in self.envs.values():
            env.listener.close()
            env.store.close()


def _check_migrated(env: EnvState) -> None:
    """A database first reached after the start must have its migrations too."""
    from ocrmp.schema import require_current

    require_current(env.name, env.store.dsn)
    env.migrated = True


def _renew(env: EnvState, refs: list[JobRef], lease_s: float) -> set[str]:
    return env.store.renew(refs, lease_s)
