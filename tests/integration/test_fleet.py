"""The fleet registry against a real Redis: what is published can be listed, nothing lives
without a TTL, and a Redis outage never reaches the master loop."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator

import pytest
import redis

from ocrmp.errors import RedisUnavailable
from ocrmp.fleet import FleetRegistry, PoolInfo, WorkerInfo
from tests.servers import RedisServer


def pool_info(host: str = "ocr-1", pool: str = "main", size: int = 2) -> PoolInfo:
    return PoolInfo(
        host=host, pool=pool, pid=4242, size=size, modes={"index": 1, "acte": 1},
        version="0.1.0", started_at=1_700_000_000.5, environments=["prod", "dev"],
        ratelimit_state="redis",
    )


def worker_info(slot: int) -> WorkerInfo:
    return WorkerInfo(
        slot=slot, pid=5000 + slot, mode="index" if slot % 2 else "acte", phase="ocr",
        job_id=100 + slot, job_env="prod", document_number=f"2 345 {slot:03d}",
        jobs_done=7, memory_bytes=300 << 20,
    )


WORKERS = [worker_info(slot) for slot in range(3)]


@pytest.fixture
def client(redis_url: str) -> Iterator[redis.Redis]:
    conn = redis.Redis.from_url(redis_url)
    yield conn
    conn.close()


@pytest.fixture
def registry(client: redis.Redis) -> FleetRegistry:
    return FleetRegistry(client)


def ttls(conn: redis.Redis) -> dict[bytes, int]:
    return {key: conn.pttl(key) for key in conn.scan_iter(count=100)}


def assert_every_key_has_a_ttl(conn: redis.Redis) -> None:
    found = ttls(conn)
    assert found and all(ttl > 0 for ttl in found.values()), found


def test_records_round_trip_through_dicts() -> None:
    assert PoolInfo.from_dict(pool_info().to_dict()) == pool_info()
    idle = WorkerInfo(slot=0, pid=1, mode="acte", phase="idle")
    assert WorkerInfo.from_dict({**idle.to_dict(), "from_a_newer_version": 1}) == idle


def test_publish_then_list(registry: FleetRegistry, client: redis.Redis) -> None:
    assert registry.publish(pool_info(), WORKERS)
    assert registry.list_pools() == [pool_info()]
    assert registry.list_workers("ocr-1", "main") == WORKERS
    assert_every_key_has_a_ttl(client)
    assert len(ttls(client)) == 1 + len(WORKERS)


def test_pools_of_several_hosts(client: redis.Redis) -> None:
    a, b, c = (FleetRegistry(client) for _ in range(3))
    a.publish(pool_info("ocr-2"), WORKERS[:1])
    b.publish(pool_info("ocr-1"), WORKERS)
    c.publish(pool_info("ocr-1", "main:x"), WORKERS[1:2])  # a pool name that shares a prefix
    listed = [(p.host, p.pool) for p in a.list_pools()]
    assert listed == [("ocr-1", "main"), ("ocr-1", "main:x"), ("ocr-2", "main")]
    assert a.list_workers("ocr-1", "main") == WORKERS
    assert a.list_workers("ocr-1", "main:x") == WORKERS[1:2]
    assert a.list_workers("ocr-9", "main") == []


def test_publish_refreshes_the_ttl(registry: FleetRegistry, client: redis.Redis) -> None:
    registry.publish(pool_info(), WORKERS)
    for key in ttls(client):
        client.pexpire(key, 100)
    registry.publish(pool_info(), WORKERS)
    assert all(ttl > 100 for ttl in ttls(client).values())
    assert all(ttl <= registry.ttl_ms for ttl in ttls(client).values())


def test_keys_expire_when_not_refreshed(client: redis.Redis) -> None:
    registry = FleetRegistry(client, refresh_interval_s=0.1)  # TTL 300 ms
    registry.publish(pool_info(), WORKERS)
    assert_every_key_has_a_ttl(client)
    deadline = time.monotonic() + 10  # a bound on waiting, not a timing assertion
    while client.dbsize() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert client.dbsize() == 0
    assert registry.list_pools() == []


def test_smaller_pool_drops_removed_workers(registry: FleetRegistry) -> None:
    registry.publish(pool_info(size=3), WORKERS)
    registry.publish(pool_info(size=1), WORKERS[:1])
    assert registry.list_workers("ocr-1", "main") == WORKERS[:1]


def test_withdraw_removes_everything(registry: FleetRegistry, client: redis.Redis) -> None:
    client.set("not-ours", 1, ex=60)
    registry.publish(pool_info(), WORKERS)
    assert registry.withdraw()
    assert registry.list_pools() == []
    assert [k for k in client.scan_iter()] == [b"not-ours"]


def test_redis_down_never_raises_into_the_master(
    redis_server: RedisServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="ocrmp.fleet")
    registry = FleetRegistry(redis.Redis.from_url(redis_server.url, socket_timeout=1))
    assert registry.publish(pool_info(), WORKERS)
    redis_server.stop()
    assert [registry.publish(pool_info(), WORKERS) for _ in range(3)] == [False] * 3
    assert not registry.withdraw()
    with pytest.raises(RedisUnavailable):
        registry.list_pools()
    redis_server.start()  # empty again, as after a Redis restart
    assert registry.publish(pool_info(), WORKERS[:2])
    assert registry.list_workers("ocr-1", "main") == WORKERS[:2]
    logged = [r.levelname for r in caplog.records if r.name == "ocrmp.fleet"]
    assert logged == ["WARNING", "INFO"]
    assert registry.withdraw()
    registry.client.close()
