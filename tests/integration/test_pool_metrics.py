"""The metrics endpoint of a live pool, scraped: its values match the database and the pool."""

from __future__ import annotations

import signal
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from ocrmp.embedded import free_port
from ocrmp.store import JobStore
from ocrmp.vocabulary import PageFlag
from tests.doubles import FAKE
from tests.poolrun import Pool, enqueue, eventually, statuses

pytestmark = pytest.mark.pool  # make test runs these again with the pure atomics


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
                "--runner", FAKE, "--metrics-port", str(port)).start()
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


def test_flagged_documents_are_counted_by_env_kind_and_reason(dsn: str, tmp_path: Path) -> None:
    enqueue(dsn, 3, "acte", "fake:pages=2,flag=low_confidence,flag=handwriting")
    enqueue(dsn, 2, "acte", "fake:flag=non_words")
    enqueue(dsn, 4, "acte", "fake:pages=2")  # read well
    enqueue(dsn, 2, "acte", "fake:fail-permanent")  # failed: nothing to review
    enqueue(dsn, 1, "index", "fake:flag=table_unread")
    enqueue(dsn, 1, "index", "fake:flag=made_up")  # a reason outside the closed list
    port = free_port()
    pool = Pool(dsn, tmp_path, "--size", "2", "--min-index", "1", "--min-acte", "1",
                "--runner", FAKE, "--metrics-port", str(port)).start()
    done = (("env", "dev"), ("kind", "acte"), ("outcome", "done"))
    try:
        eventually(lambda: statuses(dsn) == {5: 11, 4: 2}, what="every job finished")
        eventually(lambda: scrape(port).get(("ocrmp_jobs_total", done)) == 9,
                   what="acte completions counted")
        eventually(lambda: scrape(port).get(("ocrmp_jobs_total", (
            ("env", "dev"), ("kind", "index"), ("outcome", "done")))) == 2,
            what="index completions counted")
        samples = scrape(port)
    finally:
        pool.signal(signal.SIGINT)
        assert pool.wait() == 0
    flagged = {dict(labels)["kind"]: value for (name, labels), value in samples.items()
               if name == "ocrmp_jobs_flagged_total"}
    assert flagged == {"acte": 5, "index": 2}
    by_reason = {(dict(labels)["kind"], dict(labels)["reason"]): value
                 for (name, labels), value in samples.items()
                 if name == "ocrmp_jobs_flagged_by_reason_total" and value}
    assert by_reason == {("acte", "low_confidence"): 3, ("acte", "handwriting"): 3,
                         ("acte", "non_words"): 2, ("index", "table_unread"): 1}
    reasons = {dict(labels)["reason"] for (name, labels), _ in samples.items()
               if name == "ocrmp_jobs_flagged_by_reason_total"}
    assert reasons == {flag.value for flag in PageFlag}  # every series, no other label
    store = JobStore(dsn)
    try:  # the counter and `ocrmp status` agree on the documents
        assert {c.kind: c.documents for c in store.flagged_counts() if c.reason is None} == \
            flagged
    finally:
        store.close()
