"""The metrics server as Prometheus and a load balancer see it: HTTP on 127.0.0.1."""

from __future__ import annotations

import os
import signal
import urllib.error
import urllib.request
import warnings
from collections.abc import Iterator
from pathlib import Path

import psutil
import psycopg
import pytest
from prometheus_client.parser import text_string_to_metric_families

from ocrmp.embedded import free_port
from ocrmp.errors import ConfigError
from ocrmp.metrics import DatabaseSnapshot, MetricsServer, PoolMetrics, serve
from ocrmp.store import StatusCount
from ocrmp.vocabulary import StopReason
from tests.doubles import FAKE
from tests.poolrun import Pool, enqueue, eventually


class Clock:
    def __init__(self) -> None:
        self.now = 5000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def metrics(clock: Clock) -> PoolMetrics:
    return PoolMetrics(clock=clock)


@pytest.fixture
def server(metrics: PoolMetrics) -> Iterator[MetricsServer]:
    running = serve(metrics, stale_after_s=10)
    yield running
    running.shutdown()


def get(server: MetricsServer, path: str) -> tuple[int, str, str]:
    url = f"http://127.0.0.1:{server.port}{path}"
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.headers["Content-Type"], response.read().decode()
    except urllib.error.HTTPError as error:
        with error:
            return error.code, error.headers["Content-Type"], error.read().decode()


def scrape(server: MetricsServer) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    status, content_type, text = get(server, "/metrics")
    assert status == 200
    assert content_type.startswith("text/plain; version=")
    return {(sample.name, frozenset(sample.labels.items())): sample.value
            for family in text_string_to_metric_families(text) for sample in family.samples}


def key(name: str, **labels: str) -> tuple[str, frozenset[tuple[str, str]]]:
    return name, frozenset(labels.items())


def test_scrape_shows_what_was_recorded(metrics: PoolMetrics, server: MetricsServer) -> None:
    metrics.job_claimed("prod", "index")
    metrics.job_finished("prod", "index", "done", seconds=6.0, pages=3)
    metrics.worker_exited(StopReason.OOM_SUSPECTED)
    metrics.set_pool(desired=2, live=2, busy=1, idle=1, capacity=2)
    metrics.set_worker_memory("ocr-worker-1", rss=123, uss=45)
    metrics.set_queue_source(lambda: [
        ("prod", StatusCount(kind="index", status_id=3, total=19, claimable=0, backoff=0,
                             exhausted=19, stuck=0, oldest_ready_s=3600.0))])
    seen = scrape(server)
    assert seen[key("ocrmp_jobs_claimed_total", env="prod", kind="index")] == 1
    assert seen[key("ocrmp_jobs_total", env="prod", kind="index", outcome="done")] == 1
    assert seen[key("ocrmp_pages_total", env="prod", kind="index")] == 3
    assert seen[key("ocrmp_page_duration_seconds_sum", kind="index")] == 6.0
    assert seen[key("ocrmp_worker_restarts_total", reason="oom_suspected")] == 1
    assert seen[key("ocrmp_pool_size", state="busy")] == 1
    assert seen[key("ocrmp_worker_memory_bytes", worker="ocr-worker-1", kind="uss")] == 45
    # The deployment guide's "19 jobs, nothing picks them up", as numbers:
    assert seen[key("ocrmp_queue_jobs", env="prod", kind="index", status="ready")] == 19
    assert seen[key("ocrmp_queue_claimable", env="prod", kind="index")] == 0
    assert seen[key("ocrmp_queue_exhausted", env="prod", kind="index")] == 19
    assert seen[key("ocrmp_queue_oldest_ready_seconds", env="prod", kind="index")] == 3600


def test_failing_queue_source_does_not_break_the_scrape(metrics: PoolMetrics,
                                                        server: MetricsServer) -> None:
    def broken() -> list[tuple[str, StatusCount]]:
        raise ConnectionError("connection refused")

    metrics.set_queue_source(broken)
    metrics.job_claimed("dev", "acte")
    seen = scrape(server)
    assert seen[key("ocrmp_queue_snapshot_ok")] == 0
    assert not [name for name, _ in seen if name == "ocrmp_queue_jobs"]
    assert seen[key("ocrmp_jobs_claimed_total", env="dev", kind="acte")] == 1


def test_healthz_turns_503_when_the_master_loop_stalls(metrics: PoolMetrics,
                                                       server: MetricsServer,
                                                       clock: Clock) -> None:
    metrics.heartbeat()
    clock.now += 9.0
    assert get(server, "/healthz")[::2] == (200, "ok\n")
    clock.now += 3.0
    status, _, body = get(server, "/healthz")
    assert status == 503
    assert "last ran 12.0s ago" in body
    metrics.heartbeat()
    assert get(server, "/healthz")[0] == 200


def test_forgotten_worker_leaves_the_scrape(metrics: PoolMetrics,
                                            server: MetricsServer) -> None:
    metrics.set_worker_memory("ocr-worker-2", rss=1, uss=1)
    assert key("ocrmp_worker_memory_bytes", worker="ocr-worker-2", kind="rss") in scrape(server)
    metrics.forget_worker("ocr-worker-2")
    assert not [labels for name, labels in scrape(server)
                if name == "ocrmp_worker_memory_bytes"]


def test_unknown_path_is_404(server: MetricsServer) -> None:
    assert get(server, "/")[0] == 404


def listening(pid: int, port: int) -> list[str]:
    """The addresses process `pid` listens on at `port` (TCP, IPv4 and IPv6)."""
    return [conn.laddr.ip for conn in psutil.Process(pid).net_connections(kind="inet")
            if conn.status == psutil.CONN_LISTEN and conn.laddr.port == port]


def test_the_cli_binds_loopback_by_default(dsn: str, tmp_path: Path) -> None:
    """What `ocrmp run --metrics-port` really listens on, read from the kernel's socket table:
    only 127.0.0.1, never every interface."""
    port = free_port()
    pool = Pool(dsn, tmp_path, "--size", "1", "--runner", FAKE, "--metrics-port", str(port))
    pool.env.pop("OCRMP_METRICS_HOST", None)
    pool.start()
    try:
        eventually(lambda: bool(listening(pool.pid, port)), what="the metrics port open")
        assert listening(pool.pid, port) == ["127.0.0.1"]
    finally:
        pool.signal(signal.SIGTERM)
        assert pool.wait() == 0, pool.log()


def test_port_in_use_is_a_configuration_error(metrics: PoolMetrics,
                                              server: MetricsServer) -> None:
    with pytest.raises(ConfigError, match=f"cannot serve metrics on 127.0.0.1:{server.port}"):
        serve(metrics, port=server.port)


def test_forked_child_that_lets_go_does_not_hold_the_port(metrics: PoolMetrics) -> None:
    """A worker outliving its master must not keep the next master from binding the port."""
    first = serve(metrics)
    port = first.port
    release_r, release_w = os.pipe()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # 3.12: fork with threads
        pid = os.fork()
    if pid == 0:
        try:
            first.close_in_child()
            os.read(release_r, 1)
        finally:
            os._exit(0)
    try:
        first.shutdown()
        second = serve(metrics, port=port)  # the child still runs, without the socket
        assert get(second, "/healthz")[0] == 200
        second.shutdown()
    finally:
        os.write(release_w, b"x")
        os.waitpid(pid, 0)


def test_queue_metrics_match_the_database(dsn: str, metrics: PoolMetrics,
                                          server: MetricsServer, clock: Clock) -> None:
    enqueue(dsn, 3, "acte")
    enqueue(dsn, 2, "index")
    source = DatabaseSnapshot({"dev": dsn})
    metrics.set_queue_source(source)
    seen = scrape(server)
    assert seen[key("ocrmp_queue_jobs", env="dev", kind="acte", status="ready")] == 3
    assert seen[key("ocrmp_queue_claimable", env="dev", kind="acte")] == 3
    assert seen[key("ocrmp_queue_jobs", env="dev", kind="index", status="ready")] == 2
    assert seen[key("ocrmp_queue_snapshot_ok")] == 1
    with psycopg.connect(dsn) as conn:
        conn.execute("UPDATE extraction_queue SET status_id = 5 WHERE document_source = 'acte'")
    clock.now += 2.0  # past the cache
    seen = scrape(server)
    assert seen[key("ocrmp_queue_jobs", env="dev", kind="acte", status="done")] == 3
    assert key("ocrmp_queue_jobs", env="dev", kind="acte", status="ready") not in seen
    assert seen[key("ocrmp_queue_claimable", env="dev", kind="acte")] == 0
    source.close()
