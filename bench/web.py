"""The web console on a queue of a million rows: how long the overview and a filtered jobs
list take to answer over HTTP, beside the raw SQL they run (the peer).

    .venv/bin/python bench/web.py [--dsn postgresql://...] [--rows 1000000] [--runs 3]

Fills one queue of `--rows` rows created over `--days` days and worked through in order:
the newest 3 % ready, 0.1 % running, the rest done (2 % of them flagged) but for 1 %
errored with one of four error kinds; small results. Then it starts `ocrmp web` on it
and, in `--runs` runs, asks each page `--requests` times, each request followed by its
peer: the same named queries run straight through psycopg on a connection of its own.
Reports the p95 and median of each run, the median over runs with their spread, and the
ratio console / peer. Results go to bench/out/web.json.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import command_line, percentile, postgres, print_table, write_json  # noqa: E402
from ocrmp.embedded import free_port  # noqa: E402
from ocrmp.sqlfiles import queries, web_queries  # noqa: E402
from ocrmp.web.data import DAY, HOUR, PAGE_ROWS  # noqa: E402

FILL = """
INSERT INTO extraction_queue (document_number, document_source, status_id, supabase_path,
                              created_at, ocr_completed_at, ocr_page_count, ocr_attempts,
                              ocr_error, ocr_result, ocr_lease_expires_at)
SELECT 'doc-' || i, kind, status, kind || '/' || i || '.pdf',
       now() - make_interval(secs => (%(rows)s - i) * %(spacing_s)s),
       CASE WHEN status = 5
            THEN now() - make_interval(secs => greatest(%(rows)s * 0.9692 - i, 0)
                                                * %(spacing_s)s) END,
       CASE WHEN status = 5 THEN 1 + i %% 4 END,
       CASE WHEN status IN (4, 5) THEN 1 ELSE 0 END,
       CASE WHEN status = 4 THEN (ARRAY['corrupt_document', 'encrypted_document',
                                        'render_timeout', 'image_too_large'])[1 + i %% 4]
                                 || ': ' || kind || '/' || i || '.pdf: cannot be read' END,
       CASE WHEN status = 5 THEN jsonb_build_object(
           'kind', kind, 'pages', 1,
           'flagged_pages', CASE WHEN flagged THEN '[1]'::jsonb ELSE '[]'::jsonb END,
           'flags', CASE WHEN flagged THEN '{"low_confidence": 1}'::jsonb ELSE '{}' END,
           'page_results', jsonb_build_array(jsonb_build_object(
               'page', 1, 'confidence', 88.5,
               'flags', CASE WHEN flagged THEN '["low_confidence"]'::jsonb ELSE '[]' END,
               'text', md5(i::text)))) END,
       CASE WHEN status = 6 THEN now() + interval '5 minutes' END
FROM (SELECT i, CASE WHEN i %% 3 = 0 THEN 'index' ELSE 'acte' END AS kind,
             CASE WHEN i > %(rows)s * 0.97 THEN 3 WHEN i > %(rows)s * 0.969 THEN 6
                  WHEN i %% 100 = 42 THEN 4 ELSE 5 END AS status,
             i %% 50 = 7 AS flagged
      FROM generate_series(1, %(rows)s) AS i) AS rows
"""

# (label, console path, the named queries it runs: (file, name, parameters)).
PEER_JOBS = {"status": None, "kind": None, "number": None, "error_head": None, "flag": None,
             "after_created": None, "after_id": None, "limit": PAGE_ROWS}
PAGES: list[tuple[str, str, list[tuple[str, str, dict[str, Any]]]]] = [
    ("overview (every count, both charts)", "/live/overview", [
        ("queries", "queue_stats", {}), ("queries", "flagged_counts", {}),
        ("web", "failures", {}), ("web", "now", {}),
        ("web", "pages_done", {"span_s": HOUR[0], "unit": HOUR[1]}),
        ("web", "pages_done", {"span_s": DAY[0], "unit": DAY[1]})]),
    ("jobs: status done, kind acte", "/jobs?env=dev&status=5&kind=acte", [
        ("web", "jobs", PEER_JOBS | {"status": 5, "kind": "acte"})]),
    ("jobs: error kind render_timeout", "/jobs?env=dev&status=4&error=render_timeout", [
        ("web", "jobs", PEER_JOBS | {"status": 4, "error_head": "render_timeout"})]),
    ("jobs: flag low_confidence", "/jobs?env=dev&flag=low_confidence", [
        ("web", "jobs", PEER_JOBS | {"flag": "low_confidence"})]),
    ("jobs: document number", "/jobs?env=dev&number=doc-123457", [
        ("web", "jobs", PEER_JOBS | {"number": "doc-123457"})]),
    ("review: the oldest 200 to review", "/review?env=dev", [
        ("web", "to_review", {"limit": 200})]),
]


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dsn", help="an existing server (default: a private one)")
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows in the queue")
    parser.add_argument("--days", type=float, default=60,
                        help="the rows were created over this many days, oldest done first")
    parser.add_argument("--runs", type=int, default=3, help="runs, each asking every page")
    parser.add_argument("--requests", type=int, default=40, help="requests a page per run")
    return parser.parse_args(argv)


def fill(dsn: str, rows: int, days: float) -> dict[str, Any]:
    started = time.monotonic()
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(FILL.encode(), {"rows": rows, "spacing_s": days * 86400 / rows})
        conn.execute("VACUUM ANALYZE extraction_queue")
        size = conn.execute("SELECT pg_table_size('extraction_queue'), "
                            "pg_indexes_size('extraction_queue')").fetchone()
    assert size is not None
    return {"rows": rows, "table_bytes": size[0], "index_bytes": size[1],
            "fill_s": time.monotonic() - started}


def start_console(dsn: str) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {key: value for key, value in os.environ.items()
           if not key.endswith("DATABASE_URL") and not key.startswith("OCR_")}
    env |= {"OCR_DEV": "true", "DEV_DATABASE_URL": dsn, "OCRMP_STORAGE_ROOT": "/nonexistent"}
    process = subprocess.Popen([sys.executable, "-m", "ocrmp", "web", "--port", str(port)],
                               env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"{url}/login", timeout=2).close()
            return process, url
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise SystemExit("ocrmp web did not start")


def timed(call: Callable[[], object]) -> float:
    started = time.perf_counter()
    call()
    return time.perf_counter() - started


def get(url: str) -> None:
    with urllib.request.urlopen(url, timeout=60) as answer:
        answer.read()
        assert answer.status == 200


def peer(conn: psycopg.Connection,
         statements: list[tuple[str, str, dict[str, Any]]]) -> Callable[[], None]:
    sql = {"queries": queries(), "web": web_queries()}

    def run() -> None:
        for file, name, params in statements:
            conn.execute(sql[file][name].encode(), params).fetchall()
    return run


def measure(url: str, conn: psycopg.Connection, args: argparse.Namespace) -> dict[str, Any]:
    results: dict[str, Any] = {}
    for label, path, statements in PAGES:
        ask, raw = (lambda p=path: get(url + p)), peer(conn, statements)
        ask(), raw()  # warm both
        runs = []
        for _ in range(args.runs):
            console_s, peer_s = [], []
            for _ in range(args.requests):  # alternating: load on the machine hits both
                console_s.append(timed(ask))
                peer_s.append(timed(raw))
            runs.append({"console_p95_ms": percentile(console_s, 95) * 1000,
                         "console_p50_ms": statistics.median(console_s) * 1000,
                         "peer_p95_ms": percentile(peer_s, 95) * 1000,
                         "peer_p50_ms": statistics.median(peer_s) * 1000})
        results[label] = runs
    return results


def report(results: dict[str, Any]) -> list[list[str]]:
    rows = []
    for label, runs in results.items():
        def spread(key: str, runs: list[dict[str, float]] = runs) -> str:
            values = [run[key] for run in runs]
            return f"{statistics.median(values):.1f} ({min(values):.1f}–{max(values):.1f})"
        console = statistics.median(run["console_p95_ms"] for run in runs)
        raw = statistics.median(run["peer_p95_ms"] for run in runs)
        rows.append([label, spread("console_p95_ms"), spread("console_p50_ms"),
                     spread("peer_p95_ms"), f"{console / raw:.2f}×" if raw else "-"])
    print_table(rows, ["page", "console p95 ms", "console p50 ms", "raw SQL p95 ms",
                       "ratio p95"])
    return rows


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    command = command_line()
    print(f"command: {command}")
    with postgres(args.dsn, prefix="ocrmp_bench_web") as server:
        print(f"server: {server.description}")
        dsn = server.queue_database("web")
        facts = fill(dsn, args.rows, args.days)
        print(f"{facts['rows']:,} rows; table {facts['table_bytes'] / 2**20:.0f} MiB, indexes "
              f"{facts['index_bytes'] / 2**20:.0f} MiB; filled in {facts['fill_s']:.0f} s")
        process, url = start_console(dsn)
        try:
            with psycopg.connect(dsn, autocommit=True,
                                 options="-c plan_cache_mode=force_custom_plan") as conn:
                results = measure(url, conn, args)
        finally:
            process.terminate()
            process.wait(timeout=20)
    rows = report(results)
    path = write_json("web.json", {"command": command, "facts": facts, "results": results,
                                   "table": rows})
    print(f"results in {path}")


if __name__ == "__main__":
    main()
