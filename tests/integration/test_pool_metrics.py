"""The metrics endpoint of a live pool, scraped: its values match the database and the pool."""

from __future__ import annotations

import signal
import urllib.error
import urllib.request
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from ocrmp.embedded import free_port
from tests.poolrun import Pool, enqueue, eventually, statuses


def scrape(port: int) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
    return {(sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(text) for sample in family.samples}


def test_metrics_match_the_database_and_the_pool(dsn: str, tmp_path: Path) -> None:
    enqueue(dsn, 12, "acte", "fake:sleep=0.01,pages=2")
    enqueue(dsn, 3, "acte", "fake:fail-permanent")
    enqueue(dsn, 5, "index", "fake:sleep=30")  # waiting: the queue gauges must show them
    port = free_port()
    pool = Pool(dsn, tmp_path, "--size", "2", "--min-index", "0", "--min-acte", "2",
                "--engine", "fake", "--metrics-port", str(port)).start()
    try:
        eventually(lambda: statuses(dsn)[5] == 12 and statuses(dsn)[4] == 3,
                   what="acte jobs finished")
        eventually(lambda: scrape(port).get(
            ("ocrmp_jobs_total", (("env", "dev"), ("kind", "acte"), ("outcome", "done")))) == 12,
            what="completions counted")
        eventually(lambda: any(name == "ocrmp_worker_memory_bytes" for name, _ in scrape(port)),
                   what="memory sampled (once a second)")
        samples = scrape(port)
        health = urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5)
        assert health.status == 200
    finally:
        pool.signal(signal.SIGINT)
        assert pool.wait() == 0
    assert samples[("ocrmp_jobs_total",
                    (("env", "dev"), ("kind", "acte"), ("outcome", "error")))] == 3
    assert samples[("ocrmp_pages_total", (("env", "dev"), ("kind", "acte")))] == 24
    assert samples[("ocrmp_pool_size", (("state", "live"),))] == 2
    assert samples[("ocrmp_pool_size", (("state", "desired"),))] == 2
    assert samples[("ocrmp_job_duration_seconds_count", (("kind", "acte"),))] == 15
    # Index jobs wait (both workers are in acte mode and work-conserving takes them one by one):
    ready = samples.get(("ocrmp_queue_jobs", (("env", "dev"), ("kind", "index"),
                                              ("status", "ready"))), 0)
    running = samples.get(("ocrmp_queue_jobs", (("env", "dev"), ("kind", "index"),
                                                ("status", "running"))), 0)
    assert ready + running == 5
    memory = [value for (name, _), value in samples.items() if name.startswith("ocrmp_worker_mem")]
    assert memory and min(memory) > 0, sorted(name for name, _ in samples)
    try:
        urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2)
        raise AssertionError("the endpoint outlived the pool")
    except (urllib.error.URLError, ConnectionError):
        pass
