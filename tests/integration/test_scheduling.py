"""Scheduling across pools, environments and kinds, against real PostgreSQL and Redis."""

from __future__ import annotations

import json
import os
import signal
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
import redis

from ocrmp.embedded import EmbeddedPostgres
from ocrmp.schema import migrate
from tests.conftest import PgCluster
from tests.doubles import FAKE
from tests.poolrun import Pool, busy_worker_pids, enqueue, eventually, row, statuses

pytestmark = pytest.mark.pool  # make test runs these again with the pure atomics


@pytest.fixture
def prod_dsn(pg_cluster: PgCluster) -> Iterator[str]:
    name = pg_cluster.fresh_database()
    yield pg_cluster.dsn_for(name)
    pg_cluster.drop(name)


def both_envs(dev: str, prod: str) -> dict[str, str]:
    return {"OCR_PROD": "true", "PROD_DATABASE_URL": prod}


def test_two_pools_two_environments_each_job_once(dsn: str, prod_dsn: str,
                                                  tmp_path: Path) -> None:
    ids = []
    for target in (dsn, prod_dsn):
        ids += enqueue(target, 125, "acte", "fake:sleep=0.005")
        ids += enqueue(target, 125, "index", "fake:sleep=0.005")
    pools = [Pool(dsn, tmp_path, "--size", "2", "--runner", FAKE, "--until-idle",
                  env=both_envs(dsn, prod_dsn), name=f"host{i}-{tmp_path.name[-8:]}").start()
             for i in (1, 2)]
    for pool in pools:
        assert pool.wait() == 0, pool.log()
    assert statuses(dsn) == {5: 250} and statuses(prod_dsn) == {5: 250}
    executions = pools[0].executions() + pools[1].executions()
    assert set(executions) == set(ids)
    assert max(executions.values()) == 1
    assert pools[0].executions() and pools[1].executions()  # both hosts took work


def slot_modes(pool: Pool) -> Counter[str]:
    from ocrmp.pool.view import read_slots

    return Counter(row["mode"] for row in read_slots(pool.name) if row["pid"])


def test_rebalancing_moves_idle_workers_to_the_waiting_kind(dsn: str, tmp_path: Path) -> None:
    pool = Pool(dsn, tmp_path, "--size", "3", "--min-index", "1", "--min-acte", "1",
                "--runner", FAKE, env={"OCR_REBALANCE_INTERVAL_MS": "200"}).start()
    try:
        enqueue(dsn, 40, "index", "fake:sleep=0.1")
        eventually(lambda: slot_modes(pool) == {"index": 2, "acte": 1}, what="index majority")
        eventually(lambda: statuses(dsn) == {5: 40}, what="index jobs done")
        enqueue(dsn, 40, "acte", "fake:sleep=0.1")
        eventually(lambda: slot_modes(pool) == {"acte": 2, "index": 1}, what="acte majority")
        eventually(lambda: statuses(dsn) == {5: 80}, what="acte jobs done")
    finally:
        pool.signal(signal.SIGTERM)
        assert pool.wait() == 0
    assert "mode index → acte" in pool.log()


def test_disabled_environment_is_never_touched(dsn: str, prod_dsn: str, tmp_path: Path) -> None:
    waiting = enqueue(prod_dsn, 5, "acte")
    enqueue(dsn, 20, "acte", "fake:sleep=0.02")
    pool = Pool(dsn, tmp_path, "--size", "2", "--runner", FAKE,
                env={"OCR_PROD": "false", "PROD_DATABASE_URL": prod_dsn}).start()
    prod_db = psycopg.conninfo.conninfo_to_dict(prod_dsn)["dbname"]
    seen = []
    try:
        with psycopg.connect(dsn, autocommit=True) as watcher:
            deadline = time.monotonic() + 60
            while statuses(dsn) != {5: 20} and time.monotonic() < deadline:
                seen += watcher.execute("SELECT application_name FROM pg_stat_activity "
                                        "WHERE datname = %s AND application_name LIKE 'ocrmp%%'",
                                        (prod_db,)).fetchall()
                time.sleep(0.05)
    finally:
        pool.signal(signal.SIGTERM)
        assert pool.wait() == 0
    assert statuses(dsn) == {5: 20}
    assert seen == []
    assert statuses(prod_dsn) == {3: len(waiting)}


def test_prod_first_without_starving_dev(dsn: str, prod_dsn: str, tmp_path: Path) -> None:
    enqueue(prod_dsn, 400, "acte", "fake:sleep=0.02")
    enqueue(dsn, 5, "acte", "fake:sleep=0.02")
    pool = Pool(dsn, tmp_path, "--size", "1", "--min-index", "0", "--runner", FAKE,
                env=both_envs(dsn, prod_dsn)).start()
    try:
        eventually(lambda: statuses(dsn) == {5: 5}, timeout=120, what="dev jobs done")
        prod_left = statuses(prod_dsn)[3]
    finally:
        pool.signal(signal.SIGINT)
        pool.wait()
    assert prod_left > 0  # prod still had work waiting: dev was served, not merely last
    prod_done = statuses(prod_dsn)[5]
    assert prod_done > 5  # and prod went first, taking most of the turns


def test_killed_master_jobs_are_rescued_by_another_pool(dsn: str, tmp_path: Path) -> None:
    ids = enqueue(dsn, 2, "acte", "fake:sleep=1")
    fast_lease = {"OCRMP_LEASE": "3s", "OCRMP_RESCUE_INTERVAL": "1s"}
    doomed = Pool(dsn, tmp_path, "--size", "2", "--min-index", "0", "--runner", FAKE,
                  env=fast_lease, name=f"doomed-{tmp_path.name[-8:]}").start()
    eventually(lambda: len(busy_worker_pids(doomed)) == 2, what="both jobs running")
    os.kill(doomed.pid, signal.SIGKILL)
    doomed.wait()
    survivor = Pool(dsn, tmp_path, "--size", "1", "--runner", FAKE,
                    env=fast_lease, name=f"survivor-{tmp_path.name[-8:]}").start()
    try:
        eventually(lambda: statuses(dsn) == {5: 2}, what="rescue and completion")
    finally:
        survivor.signal(signal.SIGTERM)
        assert survivor.wait() == 0, survivor.log()
    assert set(survivor.executions()) == set(ids)
    assert "Rescued job with an expired lease" in survivor.log()
    # The master's death was not the documents' doing: the attempt it cut short was given
    # back, and each document completed on its first counted attempt.
    assert {row(dsn, job)["ocr_attempts"] for job in ids} == {1}


def test_postgres_restart_mid_run_loses_nothing(tmp_path: Path,
                                                private_pg: EmbeddedPostgres) -> None:
    server = private_pg
    migrate(server.dsn())
    ids = enqueue(server.dsn(), 150, "acte", "fake:sleep=0.02")
    pool = Pool(server.dsn(), tmp_path, "--size", "2", "--min-index", "0",
                "--runner", FAKE).start()
    eventually(lambda: statuses(server.dsn())[5] >= 20, what="some jobs done")
    server.restart(down_seconds=1.0)
    eventually(lambda: statuses(server.dsn()) == {5: 150}, timeout=120,
               what="every job done after the restart")
    pool.signal(signal.SIGTERM)
    assert pool.wait() == 0
    executions = pool.executions()
    assert set(executions) == set(ids)
    # A job may run twice only if its worker lost the connection while writing the outcome.
    assert sum(executions.values()) - len(ids) <= 2
    assert "LISTEN on dev restored" in pool.log() or "is back" in pool.log()


def claims_per_second(dsn: str) -> list[float]:
    with psycopg.connect(dsn) as conn:
        rows = conn.execute("SELECT extract(epoch FROM ocr_started_at) FROM extraction_queue "
                            "WHERE ocr_started_at IS NOT NULL ORDER BY 1").fetchall()
    return [float(r[0]) for r in rows]


@pytest.mark.slow
def test_rate_limit_holds_across_two_pools(dsn: str, tmp_path: Path, redis_url: str) -> None:
    enqueue(dsn, 2000, "acte", "fake:sleep=0")
    limit = {"REDIS_URL": redis_url, "OCRMP_RATE_LIMIT": "dev=600/min"}
    pools = [Pool(dsn, tmp_path, "--size", "2", "--runner", FAKE, env=limit,
                  name=f"rl{i}-{tmp_path.name[-8:]}").start() for i in (1, 2)]
    try:
        time.sleep(32)
    finally:
        for pool in pools:
            pool.signal(signal.SIGINT)
            pool.wait()
    starts = claims_per_second(dsn)
    window = [t for t in starts if starts[0] + 1 <= t < starts[0] + 31]  # past the burst
    assert abs(len(window) - 300) <= 15, len(window)
    assert all(pool.executions() for pool in pools)


def test_redis_outage_falls_back_to_the_local_limit(dsn: str, tmp_path: Path,
                                                    redis_server: object) -> None:
    from tests.servers import RedisServer

    assert isinstance(redis_server, RedisServer)
    enqueue(dsn, 400, "acte", "fake:sleep=0")
    pool = Pool(dsn, tmp_path, "--size", "2", "--runner", FAKE,
                env={"REDIS_URL": redis_server.url, "OCRMP_RATE_LIMIT": "dev=20/s"}).start()
    try:
        eventually(lambda: statuses(dsn)[5] >= 20, what="work under the Redis limit")
        redis_server.stop()
        before = statuses(dsn)[5]
        eventually(lambda: statuses(dsn)[5] >= before + 40, what="work without Redis")
        redis_server.start()
        eventually(lambda: "rate limits are fleet-wide again" in pool.log(), what="recovery")
    finally:
        pool.signal(signal.SIGINT)
        pool.wait()
    assert pool.log().count("rate limits now per host") == 1


def test_fleet_keys_expire_when_a_pool_is_killed(dsn: str, tmp_path: Path,
                                                 redis_url: str) -> None:
    client = redis.Redis.from_url(redis_url)
    pool = Pool(dsn, tmp_path, "--size", "2", "--runner", FAKE,
                env={"REDIS_URL": redis_url}).start()
    eventually(lambda: len(client.keys("ocrmp:fleet:*")) == 3, what="pool and 2 workers")
    assert all(client.pttl(key) > 0 for key in client.keys("*"))
    os.kill(pool.pid, signal.SIGKILL)
    pool.wait()
    eventually(lambda: client.keys("ocrmp:fleet:*") == [], timeout=30, what="keys expiring")


def test_status_json_matches_the_database(dsn: str, tmp_path: Path) -> None:
    enqueue(dsn, 10, "acte")
    enqueue(dsn, 3, "index")
    with psycopg.connect(dsn, autocommit=True) as conn:
        ids = [r[0] for r in conn.execute("SELECT id FROM extraction_queue WHERE "
                                          "document_source = 'acte' ORDER BY id")]
        conn.execute("UPDATE extraction_queue SET status_id = 5 WHERE id = ANY(%s)", (ids[:3],))
        conn.execute("UPDATE extraction_queue SET status_id = 4 WHERE id = %s", (ids[3],))
        conn.execute("UPDATE extraction_queue SET status_id = 6, ocr_lease_expires_at = "
                     "now() - interval '1 min' WHERE id = %s", (ids[4],))
        conn.execute("UPDATE extraction_queue SET ocr_attempts = 3 WHERE id = %s", (ids[5],))
        conn.execute("UPDATE extraction_queue SET ocr_next_attempt_at = now() + "
                     "interval '1 h' WHERE id = %s", (ids[6],))
    pool = Pool(dsn, tmp_path)
    done = pool.ctl("status", "--json")
    assert done.returncode == 0, done.stderr
    acte = json.loads(done.stdout)["environments"]["dev"]["kinds"]["acte"]
    assert (acte["done"], acte["error"], acte["running"], acte["stuck"]) == (3, 1, 1, 1)
    assert (acte["ready"], acte["claimable"], acte["exhausted"], acte["backoff"]) == (5, 3, 1, 1)
    index = json.loads(done.stdout)["environments"]["dev"]["kinds"]["index"]
    assert (index["ready"], index["claimable"]) == (3, 3)


def test_status_shows_the_rate_limit_and_its_effect(dsn: str, tmp_path: Path,
                                                    redis_url: str) -> None:
    enqueue(dsn, 200, "acte", "fake:sleep=0")
    pool = Pool(dsn, tmp_path, "--size", "2", "--runner", FAKE,
                env={"REDIS_URL": redis_url, "OCRMP_RATE_LIMIT": "dev=5/s"}).start()
    try:
        def held_back() -> bool:
            report = json.loads(pool.ctl("status", "--json").stdout)
            pools = report["fleet"]["pools"]
            return bool(pools) and pools[0]["rate_limit_wait_s"].get("dev", 0) > 0
        eventually(held_back, what="claims held back by the limit")
        shown = pool.ctl("status")
    finally:
        pool.signal(signal.SIGINT)
        pool.wait()
    assert "RATE LIMITS  dev=5/s" in shown.stdout
    assert "limit dev: 5 jobs/s, claims held back" in shown.stdout
    assert statuses(dsn)[5] < 200  # the limit really held the pool back
