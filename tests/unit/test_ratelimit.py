"""Rate limits: the parser, the GCRA arithmetic, the local backend and the failover."""

from __future__ import annotations

import logging
import multiprocessing
from collections.abc import Iterator
from multiprocessing import shared_memory

import pytest
import redis
from hypothesis import given
from hypothesis import strategies as st

from ocrmp.errors import ConfigError
from ocrmp.ratelimit import (
    UNLIMITED,
    Decision,
    FailoverRateLimiter,
    LocalRateLimiter,
    Rate,
    RateLimiter,
    gcra_step,
    parse_rate_limits,
)
from tests.clock import FakeClock, count_allowed

pytestmark = pytest.mark.pool  # make test runs these again with the pure atomics


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


# -- parser -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("prod=600/min", {"prod": Rate(600, "min", "jobs")}),
        ("dev=10/s", {"dev": Rate(10, "s", "jobs")}),
        ("staging=1000/h", {"staging": Rate(1000, "h", "jobs")}),
        ("prod=600/min:pages", {"prod": Rate(600, "min", "pages")}),
        ("prod=5/minute:page", {"prod": Rate(5, "min", "pages")}),
        (
            "prod=600/min:pages, dev=10/s",
            {"prod": Rate(600, "min", "pages"), "dev": Rate(10, "s", "jobs")},
        ),
        (["prod=1/h", "dev=2/sec"], {"prod": Rate(1, "h"), "dev": Rate(2, "s")}),
        ("", {}),
        ([], {}),
    ],
)
def test_parse_good(spec: str | list[str], expected: dict[str, Rate]) -> None:
    assert parse_rate_limits(spec) == expected


@pytest.mark.parametrize(
    ("spec", "says"),
    [
        ("prod", "expected ENV=COUNT/PERIOD"),
        ("prod=", "expected ENV=COUNT/PERIOD"),
        ("prod=10", "expected ENV=COUNT/PERIOD"),
        ("=10/s", "expected ENV=COUNT/PERIOD"),
        ("prod=1.5/s", "expected ENV=COUNT/PERIOD"),
        ("prod=-1/s", "expected ENV=COUNT/PERIOD"),
        ("prod=0/min", "at least 1"),
        ("prod=10/day", "period must be s, min or h"),
        ("prod=10/min:bytes", "unit must be jobs or pages"),
        ("prod=10/s:pages:x", "expected ENV=COUNT/PERIOD"),
        ("prod=10/s,prod=20/s", "given twice"),
    ],
)
def test_parse_bad(spec: str, says: str) -> None:
    with pytest.raises(ConfigError, match=says):
        parse_rate_limits(spec)


rates = st.builds(
    Rate,
    count=st.integers(1, 10**9),
    per=st.sampled_from(["s", "min", "h"]),
    unit=st.sampled_from(["jobs", "pages"]),
)
envs = st.from_regex(r"[a-z][a-z0-9_-]{0,12}", fullmatch=True)


@given(st.dictionaries(envs, rates, max_size=5))
def test_parse_round_trip(limits: dict[str, Rate]) -> None:
    spec = ",".join(f"{env}={rate.spec()}" for env, rate in limits.items())
    assert parse_rate_limits(spec) == limits


def test_describe() -> None:
    assert Rate(600, "min").describe() == "600 jobs/min"
    assert Rate(10, "s", "pages").describe() == "10 pages/s"


# -- GCRA arithmetic ---------------------------------------------------------------------


def test_gcra_step_burst_then_one_interval_apart() -> None:
    tat, decisions = 0, []
    for _ in range(4):
        step = gcra_step(now=1000, tat=tat, interval=10, burst=3, cost=1)
        tat = step.tat if step.allowed else tat
        decisions.append((step.allowed, step.retry_after, step.remaining))
    assert decisions == [(True, 0, 2), (True, 0, 1), (True, 0, 0), (False, 10, 0)]
    assert gcra_step(now=1010, tat=tat, interval=10, burst=3, cost=1).allowed


def test_gcra_step_cost_above_burst_passes_when_full_and_is_charged() -> None:
    step = gcra_step(now=1000, tat=0, interval=10, burst=3, cost=7)
    assert step.allowed and step.tat == 1070
    denied = gcra_step(now=1000, tat=step.tat, interval=10, burst=3, cost=1)
    assert not denied.allowed and denied.retry_after == 50


# -- local backend with an injected clock --------------------------------------------------


def local(clock: FakeClock, **kwargs: object) -> LocalRateLimiter:
    return LocalRateLimiter(
        {"prod": Rate(600, "min"), "dev": Rate(10, "s")}, clock_ns=clock.ns, **kwargs  # type: ignore[arg-type]
    )


def test_local_exact_burst_then_steady_rate(clock: FakeClock) -> None:
    limiter = local(clock)  # prod: 10 jobs/s, burst 5
    # t = 0: the burst; then one job every 0.1 s for 60 s.
    assert count_allowed(limiter, clock, "prod", 60.0, 0.01) == 5 + 599
    assert limiter.allowed == 604 and limiter.denied == 6000 - 604


def test_local_divides_rate_and_burst_by_hosts(clock: FakeClock) -> None:
    limiter = local(clock, hosts=4)  # prod: 2.5 jobs/s on this host, burst 5 // 4 = 1
    assert count_allowed(limiter, clock, "prod", 60.0, 0.01) == 150


def test_local_denial_says_when_to_retry(clock: FakeClock) -> None:
    limiter = local(clock, burst=2)
    assert [limiter.acquire("dev").allowed for _ in range(3)] == [True, True, False]
    decision = limiter.acquire("dev")
    assert (decision.allowed, decision.remaining_burst) == (False, 0)
    assert decision.retry_after_s == pytest.approx(0.1)
    clock.advance(decision.retry_after_s)
    assert limiter.acquire("dev").allowed


def test_local_unlimited_environment(clock: FakeClock) -> None:
    limiter = local(clock)
    assert all(limiter.acquire("staging", cost=1000).allowed for _ in range(100))
    assert limiter.acquire("staging").remaining_burst == UNLIMITED


@pytest.fixture
def shm() -> Iterator[shared_memory.SharedMemory]:
    segment = shared_memory.SharedMemory(create=True, size=64)
    yield segment
    segment.close()
    segment.unlink()


def test_local_limiters_on_one_buffer_share_the_budget(
    clock: FakeClock, shm: shared_memory.SharedMemory
) -> None:
    master, worker = local(clock, buf=shm.buf), local(clock, buf=shm.buf)
    allowed = [lim.acquire("prod").allowed for lim in (master, worker) * 4]
    assert allowed == [True] * 5 + [False] * 3


def acquire_many(limiter: LocalRateLimiter) -> None:
    """In a forked child: report how many of 2,000 acquires passed, as the exit code."""
    raise SystemExit(sum(limiter.acquire("prod").allowed for _ in range(2000)))


def test_local_limit_holds_across_forked_processes(shm: shared_memory.SharedMemory) -> None:
    frozen = FakeClock()  # time stands still: only the burst may ever pass, in all processes
    limiter = LocalRateLimiter({"prod": Rate(1, "h")}, shm.buf, burst=5, clock_ns=frozen.ns)
    ctx = multiprocessing.get_context("fork")
    procs = [ctx.Process(target=acquire_many, args=(limiter,)) for _ in range(4)]
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join()
    assert sum(proc.exitcode or 0 for proc in procs) == 5


def test_local_buffer_too_small(clock: FakeClock) -> None:
    with pytest.raises(ValueError, match="buffer"):
        local(clock, buf=bytearray(8))


def test_bad_cost_and_burst(clock: FakeClock) -> None:
    with pytest.raises(ValueError, match="cost"):
        local(clock).acquire("prod", cost=0)
    with pytest.raises(ConfigError, match="burst"):
        local(clock, burst=0)


# -- failover, with a primary that can be switched off -----------------------------------


class Switchable(RateLimiter):
    """Stands for the Redis limiter: allows everything, or raises as a dead Redis does."""

    def __init__(self) -> None:
        super().__init__({"prod": Rate(600, "min")})
        self.down = False
        self.calls = 0

    def _acquire(self, env: str, rate: Rate, cost: int) -> Decision:
        self.calls += 1
        if self.down:
            raise redis.ConnectionError("Connection refused")
        return Decision(True, 0.0, 4)


@pytest.fixture
def primary() -> Switchable:
    return Switchable()


@pytest.fixture
def failover(primary: Switchable, clock: FakeClock) -> FailoverRateLimiter:
    fallback = LocalRateLimiter(primary.rates, burst=1, clock_ns=clock.ns)
    return FailoverRateLimiter(primary, fallback, probe_interval_s=5.0, clock=clock.seconds)


def records(caplog: pytest.LogCaptureFixture, level: int) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "ocrmp.ratelimit" and r.levelno == level]


def test_failover_degrades_once_and_probes_at_most_every_interval(
    failover: FailoverRateLimiter, primary: Switchable, clock: FakeClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    assert failover.acquire("prod").allowed and failover.state == "redis"
    primary.down = True
    answers = [failover.acquire("prod") for _ in range(3)]
    assert failover.state == "local"
    # The local limiter answers: burst 1, so one allowed then denied.
    assert [a.allowed for a in answers] == [True, False, False]
    assert primary.calls == 2  # one success, one failed attempt; no retry before 5 s
    clock.advance(5.0)
    failover.acquire("prod")
    assert primary.calls == 3
    assert len(records(caplog, logging.WARNING)) == 1
    assert failover.stats().degraded_since is not None


def test_failover_recovers_after_probe_and_logs_once(
    failover: FailoverRateLimiter, primary: Switchable, clock: FakeClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="ocrmp.ratelimit")
    primary.down = True
    failover.acquire("prod")
    primary.down = False
    failover.acquire("prod")
    assert failover.state == "local"  # not probed yet
    clock.advance(5.0)
    for _ in range(3):
        assert failover.acquire("prod") == Decision(True, 0.0, 4)
    stats = failover.stats()
    assert (stats.state, stats.degraded_since) == ("redis", None)
    assert len(records(caplog, logging.INFO)) == 1
    assert (stats.allowed, stats.denied) == (4, 1)


def test_failover_counts_denials(failover: FailoverRateLimiter, primary: Switchable) -> None:
    primary.down = True
    for _ in range(4):
        failover.acquire("prod")
    assert (failover.stats().allowed, failover.stats().denied) == (1, 3)
