"""A pool started while a database is down waits for it, serves the others meanwhile, says
so in `ocrmp status` and /healthz, and takes that environment's jobs once it is back."""

from __future__ import annotations

import json
import signal
import urllib.request
from dataclasses import replace
from pathlib import Path

from ocrmp.config import Settings
from ocrmp.embedded import EmbeddedPostgres, free_port
from ocrmp.exitcodes import ExitCode
from ocrmp.pool.scheduler import Scheduler
from ocrmp.schema import migrate
from tests.doubles import FAKE
from tests.poolrun import Pool, enqueue, eventually, statuses

UNAVAILABLE = "Environment prod unavailable"


def healthz(port: int) -> tuple[int, str]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as reply:
        return reply.status, reply.read().decode()


def pool_view(pool: Pool, *, one_down: bool = False) -> dict[str, object]:
    done = pool.ctl("status", "--json")
    # status exits 4 while a database cannot be read: a script sees it
    assert done.returncode == (ExitCode.DATABASE if one_down else 0), done.stderr
    mine = [p for p in json.loads(done.stdout)["local_pools"] if p["pool"] == pool.name]
    assert len(mine) == 1, done.stdout
    return dict(mine[0]["environments"])


def test_pool_started_while_a_database_is_down_waits_for_it(
        dsn: str, private_pg: EmbeddedPostgres, tmp_path: Path) -> None:
    prod = private_pg.dsn()
    migrate(prod)
    enqueue(dsn, 4, "acte", "fake:sleep=0")
    enqueue(prod, 3, "acte", "fake:sleep=0")
    private_pg.stop()
    port = free_port()
    pool = Pool(dsn, tmp_path, "--size", "1", "--min-index", "0", "--runner", FAKE,
                "--metrics-port", str(port),
                env={"OCR_PROD": "true", "PROD_DATABASE_URL": prod}).start()
    try:
        eventually(lambda: statuses(dsn)[5] == 4, what="dev served while prod is down")
        assert pool.proc is not None and pool.proc.poll() is None, pool.log()
        assert UNAVAILABLE in pool.log()
        code, body = healthz(port)
        assert code == 200
        assert body.startswith("degraded\nenvironment prod unreachable for "), body
        view = pool_view(pool, one_down=True)
        assert view["dev"] == {"reachable": True, "unreachable_s": None}
        assert view["prod"]["reachable"] is False  # type: ignore[index]

        private_pg.start()
        eventually(lambda: statuses(prod)[5] == 3, what="prod jobs done once it is back")
        eventually(lambda: healthz(port) == (200, "ok\n"), what="/healthz ok again")
        assert pool_view(pool)["prod"] == {"reachable": True, "unreachable_s": None}
    finally:
        pool.signal(signal.SIGTERM)
    assert pool.wait() == 0
    assert pool.log().count(UNAVAILABLE) == 1  # said once, not on every retry


def test_database_first_reached_without_migrations_is_reported_not_claimed(
        empty_dsn: str) -> None:
    scheduler = Scheduler(replace(Settings(), environments={"dev": empty_dsn}))
    try:
        scheduler.refresh_depths(0.0, force=True)
        health = scheduler.health()["dev"]
    finally:
        scheduler.close()
    assert not health.reachable
    assert "lacks migrations" in health.error and "ocrmp db migrate" in health.error
