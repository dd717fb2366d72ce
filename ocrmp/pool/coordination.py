"""What a pool shares with other hosts through Redis: rate limits and its place in the fleet.

Without REDIS_URL, limits are enforced per host in shared memory and no fleet is published.
With Redis down, limits fall back to the per-host share and publishing is skipped; the pool
keeps working either way.
"""

from __future__ import annotations

import logging
import os
import socket
import time
from collections.abc import Sequence
from dataclasses import replace
from multiprocessing.shared_memory import SharedMemory

from ocrmp import __version__
from ocrmp.config import Settings
from ocrmp.fleet import FleetRegistry, PoolInfo, WorkerInfo, redis_client
from ocrmp.pool.every import Every
from ocrmp.ratelimit import (
    FailoverRateLimiter,
    LocalRateLimiter,
    Rate,
    RateLimiter,
    RedisRateLimiter,
    parse_rate_limits,
)

log = logging.getLogger("ocrmp.coordination")

FLEET_REFRESH_S = 5.0


class Coordination:
    """Created by the master before it forks, so workers share the local limiter's memory."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.host = socket.gethostname()
        self.rates: dict[str, Rate] = parse_rate_limits(list(settings.rate_limits))
        self.client = redis_client(settings.redis_url) if settings.redis_url else None
        self._shm: SharedMemory | None = None
        self.limiter = self._limiter() if self.rates else None
        self.registry = FleetRegistry(self.client, refresh_interval_s=FLEET_REFRESH_S) \
            if self.client is not None else None
        self.started_at = time.time()
        self.publishing = Every(FLEET_REFRESH_S)
        self.waited_s: dict[str, float] = {}  # rate-limit waits, for metrics

    def reconfigure(self, settings: Settings) -> None:
        """HUP: the reloaded rate limits. Workers forked from now on share the new limiter;
        those still running finish on the old one, whose memory stays theirs until they exit.
        Redis stays the one the pool started with."""
        rates = parse_rate_limits(list(settings.rate_limits))
        if settings.redis_url != self.settings.redis_url:
            log.warning("HUP: REDIS_URL changed; the new one is used after a restart")
        self.settings = replace(settings, redis_url=self.settings.redis_url)
        if rates == self.rates:
            return
        self._release_limiter()
        self.rates = rates
        self.limiter = self._limiter() if rates else None
        log.info("HUP: rate limits now %s", ", ".join(
            f"{env}={rate}" for env, rate in self.describe_limits().items()) or "none")

    def _limiter(self) -> RateLimiter:
        self._shm = SharedMemory(create=True, size=LocalRateLimiter.size_for(self.rates))
        buf = self._shm.buf
        assert buf is not None
        buf[:] = bytes(len(buf))
        local = LocalRateLimiter(self.rates, buf)
        if self.client is None:
            return local
        return FailoverRateLimiter(RedisRateLimiter(self.client, self.rates), local)

    @property
    def limiter_state(self) -> str:
        if self.limiter is None:
            return "none"
        return getattr(self.limiter, "state", "local")

    def describe_limits(self) -> dict[str, str]:
        return {env: rate.describe() for env, rate in self.rates.items()}

    # -- jobs: charged by the master when it claims ------------------------------------

    def allow_jobs(self, env: str, wanted: int) -> tuple[int, float]:
        """How many jobs of env may be claimed now, and if fewer than wanted, in how many
        seconds the next one may (all of them at once when jobs are not limited)."""
        rate = self.rates.get(env)
        if self.limiter is None or rate is None or rate.unit != "jobs":
            return wanted, 0.0
        allowed = 0
        while allowed < wanted:
            decision = self.limiter.acquire(env, 1)
            if not decision.allowed:
                self.waited_s[env] = self.waited_s.get(env, 0.0) + decision.retry_after_s
                return allowed, decision.retry_after_s
            allowed += 1
        return allowed, 0.0

    def limits_jobs(self) -> bool:
        """Some environment's jobs are rate-limited: every claim goes through the master,
        which charges it (workers claim no follow-on job)."""
        return self.limiter is not None and any(rate.unit == "jobs"
                                                for rate in self.rates.values())

    # -- pages: charged by the worker as it goes -----------------------------------------

    def wait_for_page(self, env: str, beat: object = None) -> float:
        """Block until one more page of env may be read; return the seconds waited."""
        rate = self.rates.get(env)
        if self.limiter is None or rate is None or rate.unit != "pages":
            return 0.0
        waited = 0.0
        while True:
            decision = self.limiter.acquire(env, 1)
            if decision.allowed:
                return waited
            pause = min(max(decision.retry_after_s, 0.001), 1.0)
            if callable(beat):
                beat()
            time.sleep(pause)
            waited += pause

    # -- fleet ----------------------------------------------------------------------------

    def maintain(self) -> None:
        """Each master pass: a limiter fallen back to the local share checks on Redis."""
        if isinstance(self.limiter, FailoverRateLimiter):
            self.limiter.probe()

    def publish(self, size: int, modes: dict[str, int], workers: Sequence[WorkerInfo]) -> None:
        """Publish this pool and its workers (the caller paces it with `publishing`)."""
        if self.registry is None:
            return
        info = PoolInfo(host=self.host, pool=self.settings.pool_name, pid=os.getpid(),
                        size=size, modes=modes, version=__version__, started_at=self.started_at,
                        environments=list(self.settings.environments),
                        ratelimit_state=self.limiter_state,
                        rate_limits=self.describe_limits(),
                        rate_limit_wait_s={env: round(s, 1) for env, s in self.waited_s.items()})
        self.registry.publish(info, list(workers))

    def close(self) -> None:
        if self.registry is not None:
            self.registry.withdraw()
        self._release_limiter()

    def _release_limiter(self) -> None:
        if self._shm is not None:
            self._shm.close()
            self._shm.unlink()
            self._shm = None
