"""The pool's pure decisions."""

from __future__ import annotations

import random
import signal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ocrmp.exitcodes import ExitCode
from ocrmp.pool import policy
from ocrmp.vocabulary import OPERATOR_STOPS, StopReason


@given(size=st.integers(1, 64), index=st.integers(0, 10_000), acte=st.integers(0, 10_000),
       min_index=st.integers(0, 8), min_acte=st.integers(0, 8))
def test_allocation_sums_to_size_and_holds_the_minimums(size: int, index: int, acte: int,
                                                        min_index: int, min_acte: int) -> None:
    alloc = policy.allocate_modes(size, {"index": index, "acte": acte}, min_index, min_acte)
    assert alloc["index"] + alloc["acte"] == size
    floor = policy.effective_minimums(size, min_index, min_acte)
    assert alloc["index"] >= floor["index"] and alloc["acte"] >= floor["acte"]
    if size >= min_index + min_acte:
        assert floor == {"index": min_index, "acte": min_acte}


@given(size=st.integers(2, 64), depth=st.integers(1, 10_000))
def test_a_kind_with_work_waiting_gets_a_worker(size: int, depth: int) -> None:
    assert policy.allocate_modes(size, {"index": depth}, 0, 0)["index"] >= 1
    assert policy.allocate_modes(size, {"acte": depth}, 0, 0)["acte"] >= 1


def test_only_index_waiting_leaves_the_acte_minimum() -> None:
    assert policy.allocate_modes(4, {"index": 50}, 1, 1) == {"index": 3, "acte": 1}
    assert policy.allocate_modes(4, {"acte": 50}, 1, 1) == {"index": 1, "acte": 3}


def test_allocation_follows_depth_proportionally() -> None:
    assert policy.allocate_modes(6, {"index": 10, "acte": 30}, 1, 1) == {"index": 2, "acte": 4}


def test_an_idle_queue_keeps_the_current_allocation() -> None:
    assert policy.allocate_modes(4, {}, 1, 1, current={"index": 3, "acte": 1}) == \
        {"index": 3, "acte": 1}


def test_only_idle_workers_switch() -> None:
    live = [(0, "acte", False), (1, "acte", True), (2, "acte", True)]
    assert policy.plan_switches(live, {"index": 2, "acte": 1}) == [(1, "index"), (2, "index")]
    busy = [(0, "acte", False), (1, "acte", False), (2, "index", True)]
    assert policy.plan_switches(busy, {"index": 2, "acte": 1}) == []


def test_idle_worker_takes_the_other_kind_rather_than_idle() -> None:
    wishes = policy.claim_wishes([("w1", "index"), ("w2", "acte")], {"acte": 5})
    assert wishes == [("w1", "acte"), ("w2", "acte")]
    # but not when its own kind has work
    assert policy.claim_wishes([("w1", "index")], {"index": 1, "acte": 5}) == [("w1", "index")]
    # and not when the other kind's own workers can take it all
    assert policy.claim_wishes([("w1", "index"), ("w2", "acte")], {"acte": 1}) == \
        [("w1", "index"), ("w2", "acte")]


@given(attempt=st.integers(1, 20), seed=st.integers(0, 1000))
def test_retry_delay_grows_and_stays_capped(attempt: int, seed: int) -> None:
    delay = policy.retry_delay(attempt, 30, 3600, random.Random(seed))
    ceiling = min(3600, 30 * 2 ** (attempt - 1))
    assert ceiling / 2 <= delay <= ceiling


def test_backoff_doubles_from_the_base_up_to_the_cap() -> None:
    assert [policy.backoff(n, 0.2, 5.0) for n in range(7)] == [0.0, 0.2, 0.4, 0.8, 1.6, 3.2, 5.0]


def test_backoff_stays_capped_after_any_number_of_failures() -> None:
    assert policy.backoff(10_000, 0.5, 5.0) == 5.0


@given(failures=st.integers(1, 200), seed=st.integers(0, 1000))
def test_backoff_jitter_stays_in_the_upper_half_of_the_wait(failures: int, seed: int) -> None:
    ceiling = policy.backoff(failures, 0.5, 5.0)
    assert ceiling / 2 <= policy.backoff(failures, 0.5, 5.0, random.Random(seed)) <= ceiling


def test_backoff_jitter_spreads_processes_that_failed_together() -> None:
    waits = {policy.backoff(3, 0.5, 5.0, random.Random(seed)) for seed in range(20)}
    assert len(waits) == 20


def test_breaker_counts_deaths_inside_the_window_only() -> None:
    assert policy.breaker_tripped([1, 2, 3, 4, 5], now=10, limit=5, window_s=60)
    assert not policy.breaker_tripped([1, 2, 3, 4, 5], now=100, limit=5, window_s=60)


def test_memory_verdicts() -> None:
    mib = 1 << 20
    assert policy.memory_verdict(100 * mib, 200 * mib, 300 * mib).action == "keep"
    assert policy.memory_verdict(250 * mib, 200 * mib, 300 * mib).action == "recycle"
    kill = policy.memory_verdict(300 * mib, 200 * mib, 300 * mib)
    assert kill.action == "kill" and "hard limit" in kill.reason


def test_capacity_shrinks_under_pressure_and_grows_back() -> None:
    assert policy.capacity_target(4, 4, available=10, total=100, reserve=0.2) == 3
    assert policy.capacity_target(4, 1, available=10, total=100, reserve=0.2) == 1
    assert policy.capacity_target(4, 3, available=22, total=100, reserve=0.2) == 3  # hysteresis
    assert policy.capacity_target(4, 3, available=50, total=100, reserve=0.2) == 4
    # a large reserve still lets the pool grow back once memory is free
    assert policy.capacity_target(4, 1, available=97, total=100, reserve=0.9) == 2


def test_environment_order_is_prod_first_but_rotates() -> None:
    orders = [policy.environment_order(["dev", "prod"], tick) for tick in range(6)]
    assert orders[0] == ["prod", "dev"]
    assert ["dev", "prod"] in orders
    assert sum(order[0] == "prod" for order in orders) > 3


def test_jobs_limit_with_jitter() -> None:
    rng = random.Random(1)
    limits = {policy.jobs_limit(100, 10, rng) for _ in range(50)}
    assert min(limits) >= 100 and max(limits) <= 110 and len(limits) > 1
    assert policy.jobs_limit(0, 10, rng) == 0


KILL, TERM, SEGV = -9, -15, -11  # os.waitstatus_to_exitcode: minus the signal


@pytest.mark.parametrize(("code", "decided", "reason"), [
    (KILL, None, StopReason.OOM_SUSPECTED),
    (KILL, StopReason.MEMORY_HARD, StopReason.MEMORY_HARD),
    (0, StopReason.MEMORY_SOFT, StopReason.MEMORY_SOFT),
    (TERM, StopReason.TIMEOUT, StopReason.TIMEOUT),
    (0, StopReason.MAX_JOBS, StopReason.MAX_JOBS),
    (0, StopReason.RELOAD, StopReason.RELOAD),
    (0, StopReason.SHRINK, StopReason.SHRINK),
    (TERM, StopReason.STOP, StopReason.STOP),
    (0, None, StopReason.STOP),
    (1, None, StopReason.CRASH),
    (ExitCode.WORKER_BOOT_ERROR, None, StopReason.CRASH),
    (SEGV, None, StopReason.CRASH),
])
def test_exit_reasons_fall_into_a_few_buckets(code: int, decided: StopReason | None,
                                              reason: StopReason) -> None:
    assert policy.stop_reason(code, decided) is reason


def test_an_exit_in_words_says_code_or_signal_then_why() -> None:
    boot = ExitCode.WORKER_BOOT_ERROR
    assert policy.describe_exit(KILL, "", boot_error=boot) == \
        "killed by SIGKILL (perhaps out of memory)"
    assert policy.describe_exit(KILL, "memory 3 GiB over the hard limit", boot_error=boot) == \
        "killed by SIGKILL; memory 3 GiB over the hard limit"
    assert policy.describe_exit(boot, "", boot_error=boot) == \
        f"exit code {int(boot)} (could not boot)"
    assert policy.describe_exit(0, "recycled: reload", boot_error=boot) == \
        "exit code 0; recycled: reload"


@pytest.mark.parametrize("code", [0, -signal.SIGTERM, -signal.SIGKILL])
@pytest.mark.parametrize("reason", sorted(OPERATOR_STOPS))
def test_a_worker_the_operator_stopped_is_not_its_documents_doing(code: int,
                                                                  reason: StopReason) -> None:
    assert policy.stopped_by_operator(code, reason)


@pytest.mark.parametrize("reason", [StopReason.TIMEOUT, StopReason.MEMORY_HARD, None])
def test_a_worker_killed_for_its_document_or_dead_on_its_own_counts(
        reason: StopReason | None) -> None:
    assert not policy.stopped_by_operator(-signal.SIGTERM, reason)
    assert not policy.stopped_by_operator(-signal.SIGKILL, reason)


@pytest.mark.parametrize("code", [1, -signal.SIGSEGV, -signal.SIGABRT])
def test_a_worker_that_crashed_while_being_stopped_counts(code: int) -> None:
    assert not policy.stopped_by_operator(code, StopReason.STOP)


def test_a_reload_keeps_a_scale_unless_the_configuration_changed_the_size() -> None:
    assert policy.size_after_reload(5, old_size=2, new_size=2) == 5
    assert policy.size_after_reload(5, old_size=2, new_size=3) == 3


def test_until_idle_counts_only_the_kinds_a_worker_reads() -> None:
    depths = {"acte": 0, "index": 0, None: 2, "fax": 1}
    assert policy.servable(depths) == (0, [(None, 2), ("fax", 1)])  # type: ignore[dict-item]
    assert policy.servable({"acte": 3, "fax": 1})[0] == 3
