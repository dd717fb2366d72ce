"""Fixtures for real servers: PostgreSQL and Redis, private unless the environment names them.

OCRMP_TEST_DATABASE_URL / OCRMP_TEST_REDIS_URL select existing servers; otherwise each test
process starts its own in a temporary directory and stops it at the end. Every test that asks
for `dsn` gets a fresh database copied from a migrated template.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
import redis

from ocrmp.embedded import EmbeddedPostgres
from tests.servers import RedisServer, remove_postgres, start_postgres

TEMPLATE = "ocrmp_template"

# The pools tests start load their test doubles by module path (tests.doubles:FakeRunner).
_ROOT = str(Path(__file__).resolve().parent.parent)
os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [_ROOT, os.environ.get("PYTHONPATH")]))


class PgCluster:
    def __init__(self, admin_dsn: str) -> None:
        self.admin_dsn = admin_dsn

    def dsn_for(self, dbname: str) -> str:
        info = psycopg.conninfo.conninfo_to_dict(self.admin_dsn)
        info["dbname"] = dbname
        return psycopg.conninfo.make_conninfo(**info)  # type: ignore[arg-type]

    def execute(self, sql: str) -> None:
        with psycopg.connect(self.admin_dsn, autocommit=True) as conn:
            conn.execute(sql)  # type: ignore[arg-type]

    def build_template(self) -> None:
        from ocrmp.schema import migrate

        self.execute(f"DROP DATABASE IF EXISTS {TEMPLATE}")
        self.execute(f"CREATE DATABASE {TEMPLATE}")
        migrate(self.dsn_for(TEMPLATE))

    def fresh_database(self, template: str = TEMPLATE) -> str:
        name = f"t_{uuid.uuid4().hex[:12]}"
        self.execute(f"CREATE DATABASE {name} TEMPLATE {template}")
        return name

    def drop(self, name: str) -> None:
        self.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture(scope="session")
def pg_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PgCluster]:
    external = os.environ.get("OCRMP_TEST_DATABASE_URL")
    if external:
        cluster = PgCluster(external)
        cluster.build_template()
        yield cluster
        return
    server = start_postgres()
    try:
        cluster = PgCluster(server.dsn())
        cluster.build_template()
        yield cluster
    finally:
        remove_postgres(server)


def _migrated_database(pg_cluster: PgCluster) -> Iterator[str]:
    name = pg_cluster.fresh_database()
    yield pg_cluster.dsn_for(name)
    pg_cluster.drop(name)


@pytest.fixture
def dsn(pg_cluster: PgCluster) -> Iterator[str]:
    """A fresh, migrated database of its own for this test."""
    yield from _migrated_database(pg_cluster)


@pytest.fixture
def other_dsn(pg_cluster: PgCluster) -> Iterator[str]:
    """A second one, for a second environment."""
    yield from _migrated_database(pg_cluster)


@pytest.fixture
def empty_dsn(pg_cluster: PgCluster) -> Iterator[str]:
    """A fresh database with no schema at all."""
    name = pg_cluster.fresh_database(template="template0")
    yield pg_cluster.dsn_for(name)
    pg_cluster.drop(name)


@pytest.fixture(scope="session")
def redis_session_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    external = os.environ.get("OCRMP_TEST_REDIS_URL")
    if external:
        yield external
        return
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    server.start()
    yield server.url
    server.stop()


@pytest.fixture
def redis_url(redis_session_url: str) -> str:
    """A Redis emptied for this test."""
    redis.Redis.from_url(redis_session_url).flushdb()
    return redis_session_url


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    """A Redis of this test's own, for tests that stop and start it."""
    server = RedisServer(tmp_path / "redis")
    server.start()
    yield server
    server.stop()


@pytest.fixture
def private_pg() -> Iterator[EmbeddedPostgres]:
    """A PostgreSQL server of this test's own, for tests that stop and restart it."""
    server = start_postgres()
    yield server
    remove_postgres(server)


@pytest.fixture(autouse=True)
def _no_leftover_pools() -> Iterator[None]:
    yield
    from tests.poolrun import kill_leftover_pools

    kill_leftover_pools()
