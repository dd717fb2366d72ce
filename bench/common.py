"""Helpers shared by the benchmarks: a private PostgreSQL, fresh databases, percentiles,
tables, and the JSON record of a run.

A benchmark runs against `--dsn` when given, otherwise against an EmbeddedPostgres started
in a temporary directory (fsync=off there: figures measure the software, not the disk).
"""

from __future__ import annotations

import json
import math
import os
import shlex
import sys
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from ocrmp.embedded import EmbeddedPostgres
from ocrmp.schema import migrate

OUT_DIR = Path(__file__).resolve().parent / "out"


@dataclass
class Server:
    """Where the benchmark's databases live; `database()` makes a fresh one."""

    dsn: str
    description: str
    prefix: str = "bench"

    def database(self, name: str) -> str:
        """A new, empty database (dropped first if a previous run left it); its DSN."""
        dbname = f"{self.prefix}_{name}"
        with psycopg.connect(self.dsn, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                sql.Identifier(dbname)))
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(dbname)))
        return with_dbname(self.dsn, dbname)

    def queue_database(self, name: str) -> str:
        """A fresh database holding ocrmp's schema (every migration applied)."""
        dsn = self.database(name)
        migrate(dsn)
        return dsn

    def setting(self, name: str) -> str:
        with psycopg.connect(self.dsn) as conn:
            row = conn.execute("SELECT current_setting(%s)", (name,)).fetchone()
        return str(row[0]) if row else "?"


def with_dbname(dsn: str, dbname: str) -> str:
    info = psycopg.conninfo.conninfo_to_dict(dsn)
    info["dbname"] = dbname
    return psycopg.conninfo.make_conninfo(**{k: v for k, v in info.items() if v is not None})


@contextmanager
def postgres(dsn: str | None, prefix: str = "bench") -> Iterator[Server]:
    """The server given by `dsn`, or a private embedded one for the duration of the block."""
    if dsn:
        yield Server(dsn, "given by --dsn", prefix)
        return
    with tempfile.TemporaryDirectory(prefix="ocrmp-bench-") as tmp:
        Path(tmp).chmod(0o711)  # as root the server runs as its own user, who must pass
        server = EmbeddedPostgres(Path(tmp) / "postgres")
        server.start()
        try:
            yield Server(server.dsn("postgres"), "private embedded PostgreSQL in a temp dir "
                         "(fsync=off, shared_buffers=64MB)", prefix)
        finally:
            server.stop("immediate")


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0-100), nearest rank; NaN for no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


def summary_ms(seconds: Sequence[float]) -> dict[str, float]:
    """p50, p99 and max in milliseconds, and the count."""
    ms = [s * 1000 for s in seconds]
    return {"n": len(ms), "p50_ms": percentile(ms, 50), "p99_ms": percentile(ms, 99),
            "max_ms": max(ms) if ms else math.nan}


def command_line() -> str:
    """The exact command that ran this benchmark, ready to paste."""
    return shlex.join([sys.executable, *sys.argv])


def print_table(rows: Sequence[Sequence[str]], header: Sequence[str]) -> None:
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))]
    line = "  ".join(f"{{:<{w}}}" for w in widths)
    print(line.format(*header))
    print("  ".join("-" * w for w in widths))
    for row in rows:
        print(line.format(*row))


def write_json(name: str, record: dict[str, Any]) -> Path:
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    path = OUT_DIR / name
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(record, indent=2, default=str) + "\n")
    os.replace(tmp, path)
    return path
