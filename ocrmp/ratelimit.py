"""Rate limits per environment: GCRA in Redis across hosts, shared memory on one host.

A limit such as ``prod=600/min:pages`` caps how fast the pools of every host together start
work for an environment. ``RedisRateLimiter`` enforces it fleet-wide with one Lua script;
``LocalRateLimiter`` enforces a per-host share of it in shared memory; ``FailoverRateLimiter``
uses the first and falls back to the second while Redis is unreachable, so a Redis outage
slows nothing down beyond the limit and stops nothing.
"""

from __future__ import annotations

import logging
import re
import sys
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from importlib import resources
from typing import Literal, NamedTuple

import redis

from ocrmp import atomics
from ocrmp.errors import ConfigError

log = logging.getLogger("ocrmp.ratelimit")

#: Units that may pass at once when an environment has been quiet. Small, so a fleet that
#: wakes up does not start a minute's worth of work in one instant.
DEFAULT_BURST = 5

#: ``remaining_burst`` of an environment that has no limit.
UNLIMITED = sys.maxsize

PERIODS: dict[str, float] = {"s": 1.0, "min": 60.0, "h": 3600.0}
_PERIOD_ALIASES = {
    "s": "s", "sec": "s", "second": "s",
    "min": "min", "minute": "min",
    "h": "h", "hr": "h", "hour": "h",
}
_UNIT_ALIASES = {"jobs": "jobs", "job": "jobs", "pages": "pages", "page": "pages"}
_ENTRY = re.compile(
    r"^(?P<env>[a-z][a-z0-9_-]*)=(?P<count>\d+)/(?P<period>[a-z]+)(?::(?P<unit>[a-z]+))?$"
)

Unit = Literal["jobs", "pages"]
State = Literal["redis", "local"]


@dataclass(frozen=True)
class Rate:
    """``count`` units (jobs or pages) per ``per`` ("s", "min" or "h")."""

    count: int
    per: str
    unit: Unit = "jobs"

    @property
    def period_s(self) -> float:
        return PERIODS[self.per]

    def interval_ns(self, hosts: int = 1) -> int:
        """Time one unit costs; each of ``hosts`` hosts gets 1/hosts of the rate."""
        return max(1, round(self.period_s * 1e9 * hosts / self.count))

    def describe(self) -> str:
        return f"{self.count} {self.unit}/{self.per}"

    def spec(self) -> str:
        """The rate as ``parse_rate_limits`` reads it, without the environment."""
        return f"{self.count}/{self.per}:{self.unit}"


def parse_rate_limits(spec: str | Iterable[str]) -> dict[str, Rate]:
    """Read ``env=COUNT/PERIOD[:UNIT]`` entries (comma or space separated) into rates.

    PERIOD is s, min or h; UNIT is jobs (default) or pages. Raises ConfigError on bad input.
    """
    parts = [spec] if isinstance(spec, str) else list(spec)
    entries = [e for part in parts for e in re.split(r"[,\s]+", part) if e]
    rates: dict[str, Rate] = {}
    for entry in entries:
        env, rate = _parse_entry(entry)
        if env in rates:
            raise ConfigError(f"rate limit for {env!r} given twice ({entry!r}); keep one")
        rates[env] = rate
    return rates


def _parse_entry(entry: str) -> tuple[str, Rate]:
    match = _ENTRY.match(entry.strip().lower())
    if match is None:
        raise ConfigError(
            f"bad rate limit {entry!r}: expected ENV=COUNT/PERIOD[:UNIT], "
            "e.g. prod=600/min or prod=600/min:pages"
        )
    count = int(match["count"])
    period = _PERIOD_ALIASES.get(match["period"])
    unit = _UNIT_ALIASES.get(match["unit"] or "jobs")
    if count < 1:
        raise ConfigError(f"bad rate limit {entry!r}: the count must be at least 1")
    if period is None:
        raise ConfigError(f"bad rate limit {entry!r}: period must be s, min or h")
    if unit is None:
        raise ConfigError(f"bad rate limit {entry!r}: unit must be jobs or pages")
    return match["env"], Rate(count, period, unit)  # type: ignore[arg-type]


class Decision(NamedTuple):
    """The answer to one ``acquire``."""

    allowed: bool
    retry_after_s: float  # 0 when allowed; otherwise when the same cost would pass
    remaining_burst: int  # units that could still pass right now after this one


@dataclass(frozen=True)
class LimiterStats:
    state: State
    allowed: int
    denied: int
    degraded_since: float | None  # unix time the fallback began, None on Redis


class Step(NamedTuple):
    allowed: bool
    tat: int
    retry_after: int
    remaining: int


def gcra_step(now: int, tat: int, interval: int, burst: int, cost: int) -> Step:
    """One GCRA decision in integer time units; the same arithmetic as gcra.lua.

    A cost above the burst passes once the bucket is full and is charged in full, so a
    large document is not refused forever and the long-run rate still holds.
    """
    tat = max(tat, now)
    allow_at = tat - (burst - min(cost, burst)) * interval
    if now < allow_at:
        return Step(False, tat, allow_at - now, 0)
    new_tat = tat + cost * interval
    remaining = (now - (new_tat - burst * interval)) // interval
    return Step(True, new_tat, 0, max(0, remaining))


class RateLimiter(ABC):
    """Non-blocking admission of work per environment.

    Contract of ``acquire(env, cost)``: it never waits. It returns ``allowed=True`` and
    consumes ``cost`` units of the environment's budget, or ``allowed=False``, consumes
    nothing, and says in ``retry_after_s`` when the same cost would pass if nobody else
    took the budget first. An environment without a limit is always allowed (with
    ``remaining_burst == UNLIMITED``). ``cost`` counts the rate's unit (jobs or pages).
    """

    def __init__(self, rates: Mapping[str, Rate], burst: int = DEFAULT_BURST) -> None:
        if burst < 1:
            raise ConfigError(f"rate-limit burst must be at least 1, not {burst}")
        self.rates = dict(rates)
        self.burst = burst
        self.allowed = 0
        self.denied = 0

    def acquire(self, env: str, cost: int = 1) -> Decision:
        if cost < 1:
            raise ValueError(f"cost must be at least 1, not {cost}")
        rate = self.rates.get(env)
        decision = Decision(True, 0.0, UNLIMITED) if rate is None else self._acquire(
            env, rate, cost
        )
        if decision.allowed:
            self.allowed += 1
        else:
            self.denied += 1
        return decision

    @abstractmethod
    def _acquire(self, env: str, rate: Rate, cost: int) -> Decision:
        """Decide for an environment that has a limit."""


class RedisRateLimiter(RateLimiter):
    """The limit across every host sharing one Redis (GCRA in ``gcra.lua``).

    Redis errors propagate (``FailoverRateLimiter`` turns them into a fallback).
    ``now_us`` is for tests only: without it the script reads Redis TIME.
    """

    def __init__(
        self,
        client: redis.Redis,
        rates: Mapping[str, Rate],
        burst: int = DEFAULT_BURST,
        *,
        prefix: str = "ocrmp:ratelimit:",
        now_us: Callable[[], int] | None = None,
    ) -> None:
        super().__init__(rates, burst)
        self.client = client
        self.prefix = prefix
        self._now_us = now_us
        source = resources.files("ocrmp").joinpath("gcra.lua").read_text(encoding="utf-8")
        # register_script runs EVALSHA and reloads the script if Redis lost it (restart).
        self._script = client.register_script(source)

    def key(self, env: str) -> str:
        return f"{self.prefix}{env}"

    def _acquire(self, env: str, rate: Rate, cost: int) -> Decision:
        interval_us = max(1, round(rate.interval_ns() / 1000))
        args: list[int | str] = [interval_us, self.burst, cost]
        if self._now_us is not None:
            args.append(self._now_us())
        allowed, retry_us, remaining = self._script(keys=[self.key(env)], args=args)
        return Decision(bool(allowed), int(retry_us) / 1e6, int(remaining))


WORD = 8


class LocalRateLimiter(RateLimiter):
    """The limit on this host alone: 1/``hosts`` of each rate, in shared memory.

    Each environment owns one 64-bit word of ``buf`` (environments in sorted order, see
    ``offset``) holding its theoretical arrival time in ns of ``clock_ns``, updated by
    compare-and-swap, so a master and its forked workers handing the same buffer (a
    ``multiprocessing.shared_memory.SharedMemory(size=size_for(rates)).buf``) share one
    budget. Without ``buf`` the state is private to this process. The burst is split the
    same way as the rate (never below 1).
    """

    def __init__(
        self,
        rates: Mapping[str, Rate],
        buf: memoryview | bytearray | None = None,
        burst: int = DEFAULT_BURST,
        *,
        hosts: int = 1,
        clock_ns: Callable[[], int] = time.monotonic_ns,
    ) -> None:
        if hosts < 1:
            raise ConfigError(f"expected host count must be at least 1, not {hosts}")
        super().__init__(rates, burst)
        self.burst = max(1, burst // hosts)
        self.hosts = hosts
        self.buf = bytearray(self.size_for(rates)) if buf is None else buf
        if len(self.buf) < self.size_for(rates):
            raise ValueError(f"buffer of {len(self.buf)} bytes < {self.size_for(rates)}")
        self._offsets = {env: i * WORD for i, env in enumerate(sorted(self.rates))}
        self._clock_ns = clock_ns

    @staticmethod
    def size_for(rates: Mapping[str, Rate]) -> int:
        """Bytes of shared memory needed for these rates."""
        return max(1, len(rates)) * WORD

    def offset(self, env: str) -> int:
        return self._offsets[env]

    def _acquire(self, env: str, rate: Rate, cost: int) -> Decision:
        offset = self._offsets[env]
        interval = rate.interval_ns(self.hosts)
        while True:
            tat = atomics.load(self.buf, offset)
            step = gcra_step(self._clock_ns(), tat, interval, self.burst, cost)
            # A lost CAS means another process took budget meanwhile: decide again.
            if not step.allowed or atomics.cas(self.buf, offset, tat, step.tat):
                return Decision(step.allowed, step.retry_after / 1e9, step.remaining)


REDIS_DOWN = (redis.ConnectionError, redis.TimeoutError, TimeoutError)


class FailoverRateLimiter(RateLimiter):
    """Redis while it answers, the local limiter while it does not.

    The switch is logged once each way. While degraded, Redis is probed again at most
    every ``probe_interval_s`` (the probe is a real ``acquire``), so an outage costs one
    connection attempt per interval, not one per call. Give the Redis client short
    socket timeouts: a probe waits for them.
    """

    def __init__(
        self,
        redis_limiter: RateLimiter,
        local_limiter: LocalRateLimiter,
        *,
        probe_interval_s: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(redis_limiter.rates, redis_limiter.burst)
        self.redis_limiter = redis_limiter
        self.local_limiter = local_limiter
        self.probe_interval_s = probe_interval_s
        self.state: State = "redis"
        self.degraded_since: float | None = None
        self._clock = clock
        self._next_probe = 0.0

    def _acquire(self, env: str, rate: Rate, cost: int) -> Decision:
        if self.state == "local" and self._clock() < self._next_probe:
            return self.local_limiter.acquire(env, cost)
        try:
            decision = self.redis_limiter.acquire(env, cost)
        except REDIS_DOWN as exc:
            self._degrade(exc)
            return self.local_limiter.acquire(env, cost)
        self._recover()
        return decision

    def _degrade(self, exc: Exception) -> None:
        self._next_probe = self._clock() + self.probe_interval_s
        if self.state == "local":
            return
        self.state = "local"
        self.degraded_since = time.time()
        log.warning(
            "Redis unreachable (%s): rate limits now per host (1/%d of each limit) until "
            "it answers again; probing every %.0f s",
            exc, self.local_limiter.hosts, self.probe_interval_s,
        )

    def _recover(self) -> None:
        if self.state == "redis":
            return
        down_for = time.time() - (self.degraded_since or 0.0)
        self.state = "redis"
        self.degraded_since = None
        log.info("Redis answers again after %.0f s: rate limits are fleet-wide again", down_for)

    def probe(self) -> None:
        """While degraded, ask Redis whether it is back even when nothing is being acquired
        (an idle pool would otherwise report its fallback forever)."""
        if self.state == "redis" or self._clock() < self._next_probe:
            return
        client = getattr(self.redis_limiter, "client", None)
        if client is None:
            return
        try:
            client.ping()
        except REDIS_DOWN as exc:
            self._degrade(exc)
            return
        self._recover()

    def stats(self) -> LimiterStats:
        return LimiterStats(self.state, self.allowed, self.denied, self.degraded_since)
