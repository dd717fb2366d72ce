"""Pools and workers across hosts, published in Redis under keys that expire.

Every key the registry writes carries a TTL of about three refresh intervals, set in the
same MULTI as the write, so a host that dies (or loses its network) disappears from the
fleet by itself: no allocation can leak as in the system ocrmp replaces.

Keys: ``ocrmp:fleet:pool:<host>:<pool>`` (hash) and
``ocrmp:fleet:worker:<host>:<pool>:<slot>`` (hash); each field holds a JSON value.
"""

from __future__ import annotations

import json
import logging
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field, fields
from typing import Any, TypeVar

import redis

from ocrmp.errors import RedisUnavailable

log = logging.getLogger("ocrmp.fleet")

T = TypeVar("T", bound="_Record")


def redis_client(url: str) -> redis.Redis:
    """Short timeouts: a dead Redis must cost the master loop milliseconds, not seconds."""
    return redis.Redis.from_url(url, socket_connect_timeout=0.3, socket_timeout=0.5)


class _Record:
    """to/from dict for the dataclasses below; unknown keys (a newer version) are ignored."""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)  # type: ignore[call-overload]

    @classmethod
    def from_dict(cls: type[T], data: Mapping[str, Any]) -> T:
        known = {f.name for f in fields(cls)}  # type: ignore[arg-type]
        return cls(**{k: v for k, v in data.items() if k in known})


@dataclass
class PoolInfo(_Record):
    host: str
    pool: str
    pid: int
    size: int
    modes: dict[str, int]  # mode -> workers in it, e.g. {"index": 3, "acte": 1}
    version: str
    started_at: float  # unix time
    environments: list[str] = field(default_factory=list)
    ratelimit_state: str = "redis"
    rate_limits: dict[str, str] = field(default_factory=dict)  # env -> "600 jobs/min"
    rate_limit_wait_s: dict[str, float] = field(default_factory=dict)  # env -> time held back


@dataclass
class WorkerInfo(_Record):
    slot: int
    pid: int
    mode: str
    phase: str
    job_id: str | None = None
    job_env: str | None = None
    document_number: str | None = None
    jobs_done: int = 0
    memory_bytes: int = 0


def _encode(record: _Record) -> dict[str, str]:
    return {name: json.dumps(value) for name, value in record.to_dict().items()}


def _decode(raw: Mapping[bytes, bytes]) -> dict[str, Any]:
    return {name.decode(): json.loads(value) for name, value in raw.items()}


def _glob_escape(text: str) -> str:
    return re.sub(r"([*?\[\]\\])", r"\\\1", text)


class FleetRegistry:
    """One pool's view of the fleet: publishes itself, lists everybody.

    ``publish`` and ``withdraw`` never raise: with Redis down they return False and log
    once, so the master loop goes on. ``list_pools`` and ``list_workers`` raise
    RedisUnavailable, because whoever asks (``ocrmp status``) must be told.
    """

    def __init__(
        self,
        client: redis.Redis,
        *,
        refresh_interval_s: float = 5.0,
        prefix: str = "ocrmp:fleet:",
    ) -> None:
        self.client = client
        self.prefix = prefix
        # Three intervals: one missed refresh (a slow loop pass) must not drop the pool.
        self.ttl_ms = max(1, math.ceil(3 * refresh_interval_s * 1000))
        self._published: set[str] = set()
        self._reachable = True

    def pool_key(self, host: str, pool: str) -> str:
        return f"{self.prefix}pool:{host}:{pool}"

    def worker_key(self, host: str, pool: str, slot: int) -> str:
        return f"{self.prefix}worker:{host}:{pool}:{slot}"

    def publish(self, pool: PoolInfo, workers: list[WorkerInfo]) -> bool:
        """Write the pool and its workers with fresh TTLs in one round trip."""
        records: dict[str, _Record] = {self.pool_key(pool.host, pool.pool): pool}
        for worker in workers:
            records[self.worker_key(pool.host, pool.pool, worker.slot)] = worker
        pipe = self.client.pipeline(transaction=True)
        for key, record in records.items():
            pipe.hset(key, mapping=_encode(record))  # type: ignore[arg-type]
            pipe.pexpire(key, self.ttl_ms)
        stale = self._published - records.keys()  # slots removed since the last publish
        if stale:
            pipe.delete(*stale)
        ok = self._execute(pipe, "publish")
        # On failure we cannot know what was written: keep every key to delete later.
        self._published = set(records) if ok else self._published | set(records)
        return ok

    def withdraw(self) -> bool:
        """Remove what this registry published (clean exit); the TTL covers the rest."""
        if not self._published:
            return True
        pipe = self.client.pipeline(transaction=True)
        pipe.delete(*self._published)
        ok = self._execute(pipe, "withdraw")
        if ok:
            self._published = set()
        return ok

    def _execute(self, pipe: redis.client.Pipeline, action: str) -> bool:
        try:
            pipe.execute()
        except redis.RedisError as exc:
            if self._reachable:
                log.warning("fleet %s failed, Redis unreachable (%s); the pool runs on "
                            "and retries on each refresh", action, exc)
            self._reachable = False
            return False
        if not self._reachable:
            log.info("fleet registry reachable again")
        self._reachable = True
        return True

    def list_pools(self) -> list[PoolInfo]:
        """Every live pool of the fleet, by host then pool name."""
        pools = [PoolInfo.from_dict(d) for d in self._read(f"{self.prefix}pool:*")]
        return sorted(pools, key=lambda p: (p.host, p.pool))

    def list_workers(self, host: str, pool: str) -> list[WorkerInfo]:
        """The live workers of one pool, by slot."""
        prefix = self.worker_key(host, pool, 0)[:-1]
        match = f"{_glob_escape(prefix)}*"
        # A pool named "a:b" would match pool "a" too: keep only keys ending in a slot.
        rows = self._read(match, lambda key: key[len(prefix):].isdigit())
        return sorted((WorkerInfo.from_dict(d) for d in rows), key=lambda w: w.slot)

    def _read(
        self, match: str, keep: Callable[[str], bool] | None = None
    ) -> list[dict[str, Any]]:
        try:
            keys = [k.decode() for k in self.client.scan_iter(match=match, count=500)]
            keys = [k for k in keys if keep is None or keep(k)]
            pipe = self.client.pipeline(transaction=False)
            for key in keys:
                pipe.hgetall(key)
            raws = pipe.execute()
        except (redis.ConnectionError, redis.TimeoutError) as exc:
            raise RedisUnavailable(f"cannot read the fleet from Redis: {exc}") from exc
        # A key that expired between SCAN and HGETALL comes back empty: it is gone.
        return [_decode(raw) for raw in raws if raw]
