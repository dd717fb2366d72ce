"""Rate limits against a real Redis: the contract shared by both backends, the fleet-wide
limit of two hosts, key TTLs, and failover while Redis stops and starts again."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator

import pytest
import redis

from ocrmp.ratelimit import (
    UNLIMITED,
    FailoverRateLimiter,
    LocalRateLimiter,
    Rate,
    RateLimiter,
    RedisRateLimiter,
)
from tests.clock import FakeClock, count_allowed
from tests.servers import RedisServer

pytestmark = pytest.mark.pool  # make test runs these again with the pure atomics


RATES = {"prod": Rate(10, "s"), "dev": Rate(600, "min", "pages"), "slow": Rate(1, "h")}


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(start_s=1_700_000_000)  # Redis-TIME-like: seconds since the epoch


@pytest.fixture
def client(redis_url: str) -> Iterator[redis.Redis]:
    conn = redis.Redis.from_url(redis_url)
    yield conn
    conn.close()


Factory = Callable[..., RateLimiter]


@pytest.fixture(params=["local", "redis"])
def make_limiter(request: pytest.FixtureRequest, clock: FakeClock) -> Factory:
    """Builds a limiter of either backend on the same fake clock: same tests, same answers."""
    if request.param == "local":
        return lambda rates=RATES, burst=5: LocalRateLimiter(rates, burst=burst, clock_ns=clock.ns)
    conn = request.getfixturevalue("client")
    return lambda rates=RATES, burst=5: RedisRateLimiter(conn, rates, burst, now_us=clock.us)


# -- the contract, for both backends ---------------------------------------------------


def test_burst_then_denied_with_retry_after(make_limiter: Factory) -> None:
    limiter = make_limiter()
    decisions = [limiter.acquire("prod") for _ in range(6)]
    assert [d.allowed for d in decisions] == [True] * 5 + [False]
    assert [d.remaining_burst for d in decisions[:5]] == [4, 3, 2, 1, 0]
    assert decisions[5].retry_after_s == pytest.approx(0.1)


def test_denied_consumes_nothing_and_retry_after_is_enough(
    make_limiter: Factory, clock: FakeClock
) -> None:
    limiter = make_limiter(burst=1)
    assert limiter.acquire("prod").allowed
    for _ in range(10):
        denied = limiter.acquire("prod")
    assert not denied.allowed and denied.retry_after_s == pytest.approx(0.1)
    clock.advance(denied.retry_after_s)
    assert limiter.acquire("prod").allowed


def test_steady_rate_after_burst(make_limiter: Factory, clock: FakeClock) -> None:
    limiter = make_limiter()
    assert count_allowed(limiter, clock, "prod", 20.0, 0.01) == 5 + 199


def test_cost_counts_units(make_limiter: Factory, clock: FakeClock) -> None:
    limiter = make_limiter()
    assert limiter.acquire("dev", cost=3).remaining_burst == 2
    assert not limiter.acquire("dev", cost=3).allowed
    assert limiter.acquire("dev", cost=2).allowed


def test_cost_above_burst_passes_when_full_then_waits(make_limiter: Factory) -> None:
    limiter = make_limiter()
    assert limiter.acquire("dev", cost=50).allowed  # a 50-page document, burst 5
    denied = limiter.acquire("dev")
    assert not denied.allowed and denied.retry_after_s == pytest.approx(4.6)


def test_environments_are_independent(make_limiter: Factory) -> None:
    limiter = make_limiter(burst=1)
    assert limiter.acquire("prod").allowed and not limiter.acquire("prod").allowed
    assert limiter.acquire("dev").allowed


def test_environment_without_limit_always_allowed(make_limiter: Factory) -> None:
    limiter = make_limiter()
    decisions = [limiter.acquire("staging", cost=100) for _ in range(50)]
    assert all(d.allowed and d.remaining_burst == UNLIMITED for d in decisions)


def test_counters(make_limiter: Factory) -> None:
    limiter = make_limiter(burst=2)
    for _ in range(5):
        limiter.acquire("prod")
    assert (limiter.allowed, limiter.denied) == (2, 3)


# -- Redis only ---------------------------------------------------------------------------


def test_two_hosts_share_the_limit(redis_url: str, clock: FakeClock) -> None:
    rates = {"prod": Rate(600, "min")}
    hosts = [redis.Redis.from_url(redis_url), redis.Redis.from_url(redis_url)]
    limiters = [RedisRateLimiter(h, rates, now_us=clock.us) for h in hosts]
    allowed = 0
    for _ in range(3000):  # one simulated minute, each host asking every 20 ms
        allowed += sum(limiter.acquire("prod").allowed for limiter in limiters)
        clock.advance(0.02)
    assert abs(allowed - 600) <= 0.05 * 600
    for h in hosts:
        h.close()


def test_default_clock_is_redis_time(client: redis.Redis) -> None:
    limiter = RedisRateLimiter(client, RATES, burst=3)
    assert [limiter.acquire("slow").allowed for _ in range(4)] == [True] * 3 + [False]
    assert 0 < limiter.acquire("slow").retry_after_s <= 3600


def every_key_has_a_ttl(conn: redis.Redis) -> dict[bytes, int]:
    ttls = {key: conn.pttl(key) for key in conn.scan_iter(count=100)}
    assert ttls and all(ttl > 0 for ttl in ttls.values()), ttls
    return ttls


def test_keys_live_only_while_needed(client: redis.Redis) -> None:
    limiter = RedisRateLimiter(client, RATES)
    limiter.acquire("prod", cost=2)
    limiter.acquire("slow")
    limiter.acquire("dev", cost=100)
    ttls = every_key_has_a_ttl(client)
    # TTL = time until the theoretical arrival time: cost × interval, no more.
    assert 0 < ttls[b"ocrmp:ratelimit:prod"] <= 200
    assert 3_599_000 < ttls[b"ocrmp:ratelimit:slow"] <= 3_600_000
    assert 9_000 < ttls[b"ocrmp:ratelimit:dev"] <= 10_000


# -- failover with a Redis that stops and starts -----------------------------------------


@pytest.fixture
def failover(redis_server: RedisServer, clock: FakeClock) -> Iterator[FailoverRateLimiter]:
    conn = redis.Redis.from_url(redis_server.url, socket_connect_timeout=1, socket_timeout=1)
    limiter = FailoverRateLimiter(
        RedisRateLimiter(conn, RATES),
        LocalRateLimiter(RATES, clock_ns=clock.ns),
        probe_interval_s=5.0,
        clock=clock.seconds,
    )
    yield limiter
    conn.close()


def test_failover_to_local_and_back(
    failover: FailoverRateLimiter, redis_server: RedisServer, clock: FakeClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="ocrmp.ratelimit")
    assert failover.acquire("prod").allowed and failover.state == "redis"
    redis_server.stop()
    answers = []
    for _ in range(3):  # three probe intervals with Redis down
        answers += [failover.acquire("prod") for _ in range(10)]
        clock.advance(5.0)
    assert failover.state == "local" and failover.stats().degraded_since is not None
    assert sum(a.allowed for a in answers) == 3 * 5  # local: a full burst every 5 s
    redis_server.start()  # same port, empty: the script cache too
    clock.advance(5.0)
    assert failover.acquire("slow").allowed
    assert failover.state == "redis" and failover.stats().degraded_since is None
    logged = [(r.levelname, r.name) for r in caplog.records if r.name == "ocrmp.ratelimit"]
    assert logged == [("WARNING", "ocrmp.ratelimit"), ("INFO", "ocrmp.ratelimit")]
    every_key_has_a_ttl(redis.Redis.from_url(redis_server.url))


def test_an_idle_pool_learns_that_redis_is_back(
    failover: FailoverRateLimiter, redis_server: RedisServer, clock: FakeClock,
) -> None:
    redis_server.stop()
    failover.acquire("prod")
    assert failover.state == "local"
    redis_server.start()
    failover.probe()  # before the probe interval: no attempt yet
    assert failover.state == "local"
    clock.advance(5.0)
    failover.probe()  # nothing acquired, yet the fallback ends
    assert failover.state == "redis" and failover.stats().degraded_since is None
