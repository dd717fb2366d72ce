"""Cost of counting and listing flagged documents on a big queue, with and without the
partial index of migration 0005.

    .venv/bin/python bench/review.py [--dsn postgresql://...] [--done 200000] [--flagged 0.02]

Builds one table of `--done` done rows whose results look like the pipeline's (three pages
of text each, so most results are stored compressed out of line, as real ones are), a
share `--flagged` of them with flagged pages, and a few thousand rows in other statuses.
Then, after VACUUM ANALYZE, runs each statement of `ocrmp status` and `ocrmp review`
through EXPLAIN (ANALYZE, BUFFERS) several times, first as migrated, then with the index
dropped inside a transaction that is rolled back. Reports the median execution time and
the pages each run touched. Results go to bench/out/review.json.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import command_line, postgres, print_table, write_json  # noqa: E402
from ocrmp.sqlfiles import queries  # noqa: E402

INDEX = "extraction_queue_ocr_flagged"
RUNS = 7
# (label, named query, parameters): what a status refresh and a review listing run.
STATEMENTS: list[tuple[str, str, dict[str, Any]]] = [
    ("status: flagged counts", "flagged_counts", {}),
    ("review: newest 50", "flagged_documents", {"kind": None, "flags": None, "limit": 50}),
    ("review: --kind index --flag table_unread", "flagged_documents",
     {"kind": "index", "flags": ["table_unread"], "limit": 50}),
    ("status: queue counts (unchanged, for scale)", "queue_stats", {}),
]

# Three pages of text that compresses about as well as OCR text; page flags on the
# flagged share, the document's summary at top level, as `OcrResult.to_json` writes them.
FILL = """
INSERT INTO extraction_queue (document_number, document_source, status_id, supabase_path,
                              ocr_completed_at, ocr_page_count, ocr_result)
SELECT 'doc-' || i, CASE WHEN i %% 3 = 0 THEN 'index' ELSE 'acte' END, 5, 'x/' || i || '.pdf',
       now() - make_interval(secs => i), 3,
       jsonb_build_object(
           'kind', CASE WHEN i %% 3 = 0 THEN 'index' ELSE 'acte' END, 'engine', 'tesserocr',
           'pages', 3, 'mean_confidence', 88.5,
           'flagged_pages', CASE WHEN flagged THEN '[2]'::jsonb ELSE '[]'::jsonb END,
           'flags', CASE WHEN NOT flagged THEN '{}'::jsonb
                         WHEN i %% 3 = 0 THEN '{"table_unread": 1}'::jsonb
                         ELSE '{"low_confidence": 1}'::jsonb END,
           'page_results', (
               SELECT jsonb_agg(jsonb_build_object(
                   'page', p, 'confidence', 88.5, 'width', 2550, 'height', 3300,
                   'flags', CASE WHEN flagged AND p = 2 THEN
                                 CASE WHEN i %% 3 = 0 THEN '["table_unread"]'::jsonb
                                      ELSE '["low_confidence"]'::jsonb END
                            ELSE '[]'::jsonb END,
                   'text', (SELECT string_agg(md5(i::text || p::text || w::text), ' ')
                            FROM generate_series(1, 40) AS w)))
               FROM generate_series(1, 3) AS p))
FROM (SELECT i, random() < %(flagged)s AS flagged FROM generate_series(1, %(done)s) AS i) AS rows
"""
OTHERS = """
INSERT INTO extraction_queue (document_number, document_source, status_id, supabase_path)
SELECT 'other-' || i, 'acte', (ARRAY[3, 4, 6])[1 + i %% 3], 'x/o' || i || '.pdf'
FROM generate_series(1, %(n)s) AS i
"""


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dsn", help="an existing server (default: a private one)")
    parser.add_argument("--done", type=int, default=200_000, help="done rows")
    parser.add_argument("--flagged", type=float, default=0.02, help="share flagged")
    parser.add_argument("--others", type=int, default=3_000, help="rows in 3, 4 and 6")
    return parser.parse_args(argv)


def fill(conn: psycopg.Connection, args: argparse.Namespace) -> dict[str, Any]:
    started = time.monotonic()
    conn.execute("SELECT setseed(0.5)")  # the same rows flagged in every run
    conn.execute(FILL.encode(), {"done": args.done, "flagged": args.flagged})
    conn.execute(OTHERS.encode(), {"n": args.others})
    conn.execute("VACUUM ANALYZE extraction_queue")
    facts = conn.execute(
        "SELECT count(*) FILTER (WHERE status_id = 5), "
        "count(*) FILTER (WHERE status_id = 5 AND ocrmp_has_flagged_pages(ocr_result)), "
        "pg_table_size('extraction_queue'), pg_relation_size('extraction_queue'), "
        "pg_relation_size(%s), avg(pg_column_size(ocr_result)) FROM extraction_queue",
        (INDEX,)).fetchone()
    assert facts is not None
    return {"done": facts[0], "flagged": facts[1], "table_bytes": facts[2],
            "heap_bytes": facts[3], "index_bytes": facts[4],
            "result_stored_bytes": round(float(facts[5])), "fill_s": time.monotonic() - started}


def measure(conn: psycopg.Connection, query: str, params: dict[str, Any]) -> dict[str, Any]:
    """Median execution time and the pages touched, over RUNS runs (the first warms up)."""
    times, pages = [], []
    for _ in range(RUNS + 1):
        [[plan]] = conn.execute(
            ("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + queries()[query]).encode(), params)
        top = plan[0]
        times.append(top["Execution Time"])
        pages.append(top["Plan"].get("Shared Hit Blocks", 0)
                     + top["Plan"].get("Shared Read Blocks", 0))
    return {"ms": statistics.median(times[1:]), "pages": pages[-1],
            "scan": _scans(top["Plan"])}


def _scans(node: dict[str, Any]) -> list[str]:
    """How each table was read: 'Index Scan using ...', 'Seq Scan', ..."""
    found = []
    if node.get("Relation Name") == "extraction_queue" or "Index Name" in node:
        found.append(node["Node Type"] + (f" using {node['Index Name']}"
                                          if "Index Name" in node else ""))
    for child in node.get("Plans", []):
        found.extend(_scans(child))
    return found


def run(dsn: str, args: argparse.Namespace) -> dict[str, Any]:
    with psycopg.connect(dsn, autocommit=True,
                         options="-c plan_cache_mode=force_generic_plan") as conn:
        facts = fill(conn, args)
        with_index = {label: measure(conn, query, params)
                      for label, query, params in STATEMENTS}
        started = time.monotonic()
        conn.execute(f"REINDEX INDEX {INDEX}")
        facts["index_build_s"] = time.monotonic() - started
        with conn.transaction(force_rollback=True):
            conn.execute(f"DROP INDEX {INDEX}")
            without = {label: measure(conn, query, params)
                       for label, query, params in STATEMENTS}
    return {"facts": facts, "with_index": with_index, "without_index": without}


def report(results: dict[str, Any]) -> list[list[str]]:
    rows = []
    for label, _, _ in STATEMENTS:
        new, old = results["with_index"][label], results["without_index"][label]
        rows.append([label, f"{new['ms']:.1f}", f"{new['pages']:,}", f"{old['ms']:.1f}",
                     f"{old['pages']:,}", f"{old['ms'] / new['ms']:.0f}×" if new["ms"] else "-"])
    print_table(rows, ["statement", "index ms", "index pages", "no index ms",
                       "no index pages", "ratio"])
    for label, _, _ in STATEMENTS:
        print(f"  {label}: {', '.join(results['with_index'][label]['scan'])} | without: "
              f"{', '.join(results['without_index'][label]['scan'])}")
    return rows


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    command = command_line()
    print(f"command: {command}")
    with postgres(args.dsn, prefix="ocrmp_bench_review") as server:
        print(f"server: {server.description}")
        results = run(server.queue_database("flagged"), args)
    facts = results["facts"]
    print(f"{facts['done']:,} done rows, {facts['flagged']:,} flagged; table "
          f"{facts['table_bytes'] / 2**20:.0f} MiB (heap {facts['heap_bytes'] / 2**20:.0f} MiB),"
          f" a result stored in {facts['result_stored_bytes']:,} bytes on average; index "
          f"{facts['index_bytes'] / 2**10:.0f} KiB, built in {facts['index_build_s']:.2f} s")
    rows = report(results)
    path = write_json("review.json", {"command": command, "results": results, "table": rows})
    print(f"results in {path}")


if __name__ == "__main__":
    main()
