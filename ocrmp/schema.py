"""Migrations: plain SQL files applied in order, each recorded once."""

from __future__ import annotations

from ocrmp.db import connect, describe_dsn, translated
from ocrmp.errors import SchemaError
from ocrmp.sqlfiles import migrations

_LEDGER = """
CREATE TABLE IF NOT EXISTS ocrmp_migrations (
    name       text PRIMARY KEY,
    applied_at timestamptz NOT NULL DEFAULT now()
)
"""

# Two pools starting together must not both migrate: a transaction-scoped advisory lock
# serialises them, and the second finds the work done.
_LOCK_KEY = 0x6F63726D70  # "ocrmp"


def migrate(dsn: str) -> list[str]:
    """Apply the migrations this database lacks; return their names."""
    applied: list[str] = []
    with connect(dsn) as conn, translated(f"migrating {describe_dsn(dsn)}"), conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (_LOCK_KEY,))
        conn.execute(_LEDGER)
        done = {row[0] for row in conn.execute("SELECT name FROM ocrmp_migrations")}
        for name, sql in migrations():
            if name in done:
                continue
            conn.execute(sql.encode())
            conn.execute("INSERT INTO ocrmp_migrations (name) VALUES (%s)", (name,))
            applied.append(name)
    return applied


def pending(dsn: str) -> list[str]:
    """Names of migrations not yet applied to this database."""
    with connect(dsn) as conn, translated(f"reading migrations of {describe_dsn(dsn)}"):
        exists = conn.execute("SELECT to_regclass('ocrmp_migrations') IS NOT NULL").fetchone()
        done: set[str] = set()
        if exists and exists[0]:
            done = {row[0] for row in conn.execute("SELECT name FROM ocrmp_migrations")}
    return [name for name, _ in migrations() if name not in done]


def require_current(env: str, dsn: str) -> None:
    """SchemaError unless every migration is applied to this environment's database."""
    missing = pending(dsn)
    if missing:
        raise SchemaError(f"the {env} database lacks migrations {', '.join(missing)}: "
                          "run `ocrmp db migrate`")
