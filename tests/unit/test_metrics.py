"""PoolMetrics and the queue collector, read back through the text exposition format."""

from __future__ import annotations

import pytest
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from ocrmp.flags import DocumentFlags
from ocrmp.metrics import PoolMetrics, healthz_body
from ocrmp.pool.scheduler import EnvHealth
from ocrmp.store import StatusCount
from ocrmp.vocabulary import PageFlag, StopReason


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def samples(metrics: PoolMetrics) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    text = generate_latest(metrics.registry).decode()
    return {(sample.name, frozenset(sample.labels.items())): sample.value
            for family in text_string_to_metric_families(text) for sample in family.samples}


def value(metrics: PoolMetrics, name: str, **labels: str) -> float | None:
    return samples(metrics).get((name, frozenset(labels.items())))


def names(metrics: PoolMetrics) -> set[str]:
    return {name for name, _ in samples(metrics)}


def count(kind: str, status_id: int, total: int, *, claimable: int = 0, backoff: int = 0,
          exhausted: int = 0, stuck: int = 0, oldest_ready_s: float | None = None) -> StatusCount:
    return StatusCount(kind=kind, status_id=status_id, total=total, claimable=claimable,
                       backoff=backoff, exhausted=exhausted, stuck=stuck,
                       oldest_ready_s=oldest_ready_s)


def test_finished_jobs_count_by_outcome_with_durations_and_pages() -> None:
    metrics = PoolMetrics()
    metrics.job_claimed("prod", "acte")
    metrics.job_finished("prod", "acte", "done", seconds=12.0, pages=4)
    metrics.job_finished("prod", "acte", "retry", seconds=1.0, pages=0)
    assert value(metrics, "ocrmp_jobs_claimed_total", env="prod", kind="acte") == 1
    assert value(metrics, "ocrmp_jobs_total", env="prod", kind="acte", outcome="done") == 1
    assert value(metrics, "ocrmp_jobs_total", env="prod", kind="acte", outcome="retry") == 1
    assert value(metrics, "ocrmp_pages_total", env="prod", kind="acte") == 4
    assert value(metrics, "ocrmp_job_duration_seconds_count", kind="acte") == 2
    assert value(metrics, "ocrmp_job_duration_seconds_sum", kind="acte") == 13.0
    # Four pages of a 12 s job: four observations of 3 s each.
    assert value(metrics, "ocrmp_page_duration_seconds_count", kind="acte") == 4
    assert value(metrics, "ocrmp_page_duration_seconds_bucket", kind="acte", le="2.0") == 0
    assert value(metrics, "ocrmp_page_duration_seconds_bucket", kind="acte", le="5.0") == 4


def test_done_jobs_count_as_flagged_by_env_kind_and_reason() -> None:
    metrics = PoolMetrics()
    metrics.job_flagged("prod", "acte", DocumentFlags())
    assert value(metrics, "ocrmp_jobs_flagged_total", env="prod", kind="acte") == 0
    assert {dict(labels)["reason"]: v for (name, labels), v in samples(metrics).items()
            if name == "ocrmp_jobs_flagged_by_reason_total"} == dict.fromkeys(PageFlag, 0)
    both = DocumentFlags(True, frozenset({PageFlag.LOW_CONFIDENCE, PageFlag.HANDWRITING}))
    metrics.job_flagged("prod", "acte", both)
    metrics.job_flagged("prod", "acte", DocumentFlags(True, frozenset({PageFlag.HANDWRITING})))
    metrics.job_flagged("dev", "index", DocumentFlags(True, frozenset()))
    assert value(metrics, "ocrmp_jobs_flagged_total", env="prod", kind="acte") == 2
    assert value(metrics, "ocrmp_jobs_flagged_total", env="dev", kind="index") == 1
    by_reason = "ocrmp_jobs_flagged_by_reason_total"
    assert value(metrics, by_reason, env="prod", kind="acte", reason="handwriting") == 2
    assert value(metrics, by_reason, env="prod", kind="acte", reason="low_confidence") == 1
    assert value(metrics, by_reason, env="prod", kind="acte", reason="non_words") == 0
    assert value(metrics, by_reason, env="dev", kind="index", reason="table_unread") == 0


def test_unknown_outcome_is_refused() -> None:
    with pytest.raises(ValueError, match="outcome must be one of"):
        PoolMetrics().job_finished("dev", "acte", "finished", seconds=1.0, pages=1)


def test_worker_exits_and_recycles_count_by_bucket() -> None:
    metrics = PoolMetrics()
    metrics.worker_exited(StopReason.OOM_SUSPECTED)
    metrics.worker_exited(StopReason.CRASH)
    metrics.worker_exited(StopReason.CRASH)
    metrics.recycled(StopReason.RELOAD)
    assert value(metrics, "ocrmp_worker_restarts_total", reason="oom_suspected") == 1
    assert value(metrics, "ocrmp_worker_restarts_total", reason="crash") == 2
    assert value(metrics, "ocrmp_worker_restarts_total", reason="timeout") == 0
    assert value(metrics, "ocrmp_worker_recycles_total", reason="reload") == 1


def test_pool_rate_limit_and_memory_gauges() -> None:
    metrics = PoolMetrics()
    metrics.set_pool(desired=4, live=3, busy=2, idle=1, capacity=3)
    metrics.rate_limited("prod", 0.5)
    metrics.rate_limited("prod", 1.5)
    metrics.set_rate_limit_state("local")
    metrics.set_worker_memory("ocr-worker-1", rss=300 << 20, uss=200 << 20)
    assert {state: value(metrics, "ocrmp_pool_size", state=state)
            for state in ("desired", "live", "busy", "idle", "capacity")} == {
        "desired": 4, "live": 3, "busy": 2, "idle": 1, "capacity": 3}
    assert value(metrics, "ocrmp_rate_limit_waits_total", env="prod") == 2
    assert value(metrics, "ocrmp_rate_limit_wait_seconds_total", env="prod") == 2.0
    assert value(metrics, "ocrmp_rate_limit_backend", backend="local") == 1
    assert value(metrics, "ocrmp_rate_limit_backend", backend="redis") == 0
    assert value(metrics, "ocrmp_worker_memory_bytes", worker="ocr-worker-1",
                 kind="rss") == 300 << 20
    assert value(metrics, "ocrmp_worker_memory_bytes", worker="ocr-worker-1",
                 kind="uss") == 200 << 20


def test_forget_worker_removes_its_series_only() -> None:
    metrics = PoolMetrics()
    metrics.set_worker_memory("ocr-worker-1", rss=1, uss=1)
    metrics.set_worker_memory("ocr-worker-2", rss=2, uss=2)
    metrics.forget_worker("ocr-worker-1")
    metrics.forget_worker("ocr-worker-9")  # never seen: nothing to do, no error
    workers = {dict(labels)["worker"] for name, labels in samples(metrics)
               if name == "ocrmp_worker_memory_bytes"}
    assert workers == {"ocr-worker-2"}


def test_queue_gauges_follow_the_snapshot() -> None:
    metrics = PoolMetrics()
    metrics.set_queue_source(lambda: [
        ("prod", count("acte", 3, 7, claimable=5, backoff=1, exhausted=1, oldest_ready_s=42.5)),
        ("prod", count("acte", 6, 2, stuck=1)),
        ("prod", count("index", 5, 10)),
        ("dev", count("", 1, 3)),
    ])
    assert value(metrics, "ocrmp_queue_jobs", env="prod", kind="acte", status="ready") == 7
    assert value(metrics, "ocrmp_queue_jobs", env="prod", kind="acte", status="running") == 2
    assert value(metrics, "ocrmp_queue_jobs", env="prod", kind="index", status="done") == 10
    assert value(metrics, "ocrmp_queue_jobs", env="dev", kind="unknown",
                 status="waiting_download") == 3
    assert value(metrics, "ocrmp_queue_claimable", env="prod", kind="acte") == 5
    assert value(metrics, "ocrmp_queue_backoff", env="prod", kind="acte") == 1
    assert value(metrics, "ocrmp_queue_exhausted", env="prod", kind="acte") == 1
    assert value(metrics, "ocrmp_queue_stuck", env="prod", kind="acte") == 1
    assert value(metrics, "ocrmp_queue_oldest_ready_seconds", env="prod", kind="acte") == 42.5
    assert value(metrics, "ocrmp_queue_oldest_ready_seconds", env="prod", kind="index") == 0
    assert value(metrics, "ocrmp_queue_snapshot_ok") == 1


def test_queue_snapshot_is_cached_between_close_scrapes() -> None:
    clock = Clock()
    calls: list[float] = []

    def snapshot() -> list[tuple[str, StatusCount]]:
        calls.append(clock.now)
        return [("dev", count("acte", 3, len(calls)))]

    metrics = PoolMetrics(clock=clock)
    metrics.set_queue_source(snapshot)
    for _ in range(5):
        assert value(metrics, "ocrmp_queue_jobs", env="dev", kind="acte", status="ready") == 1
    clock.now += 2.0
    assert value(metrics, "ocrmp_queue_jobs", env="dev", kind="acte", status="ready") == 2
    assert len(calls) == 2


def test_failing_queue_source_leaves_the_other_metrics() -> None:
    def broken() -> list[tuple[str, StatusCount]]:
        raise RuntimeError("database unreachable")

    metrics = PoolMetrics()
    metrics.job_claimed("dev", "index")
    metrics.set_queue_source(broken)
    present = names(metrics)
    assert not {name for name in present if name.startswith("ocrmp_queue_")} - {
        "ocrmp_queue_snapshot_ok"}
    assert value(metrics, "ocrmp_queue_snapshot_ok") == 0
    assert value(metrics, "ocrmp_jobs_claimed_total", env="dev", kind="index") == 1


def test_no_queue_source_means_no_queue_metrics() -> None:
    assert not {name for name in names(PoolMetrics()) if name.startswith("ocrmp_queue_")}


def test_heartbeat_age_follows_the_clock() -> None:
    clock = Clock()
    metrics = PoolMetrics(clock=clock)
    clock.now += 3.0
    assert value(metrics, "ocrmp_master_heartbeat_age_seconds") == 3.0
    metrics.heartbeat()
    assert value(metrics, "ocrmp_master_heartbeat_age_seconds") == 0.0


def test_two_pools_in_one_process_have_separate_registries() -> None:
    first, second = PoolMetrics(), PoolMetrics()
    first.job_claimed("dev", "acte")
    assert value(second, "ocrmp_jobs_claimed_total", env="dev", kind="acte") is None


def test_healthz_names_each_environment_the_pool_waits_for_without_its_password() -> None:
    down = EnvHealth(False, 1000.0, "dev: cannot reach the database: "
                                    "postgresql://ocr:s3cret@db/x refused")
    assert healthz_body({}, 1040.0) == b"ok\n"
    body = healthz_body({"prod": down}, 1040.0).decode()
    assert body.startswith("degraded\nenvironment prod unreachable for 40s: ")
    assert "s3cret" not in body


def test_environment_up_follows_what_the_scheduler_saw() -> None:
    metrics = PoolMetrics(clock=Clock())
    metrics.set_environments({"dev": EnvHealth(True), "prod": EnvHealth(False, 1.0, "down")})
    values = samples(metrics)
    assert values[("ocrmp_environment_up", frozenset({("env", "dev")}))] == 1
    assert values[("ocrmp_environment_up", frozenset({("env", "prod")}))] == 0
    assert set(metrics.unreachable()) == {"prod"}
    metrics.set_environments({"dev": EnvHealth(True), "prod": EnvHealth(True)})
    assert metrics.unreachable() == {}
