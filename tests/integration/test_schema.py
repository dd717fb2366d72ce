"""Migrations against a real PostgreSQL: empty databases and the original table's shape."""

from __future__ import annotations

import psycopg

from ocrmp.schema import migrate, pending
from ocrmp.sqlfiles import migrations
from ocrmp.store import JobStore

# The table as the original downloader created it: no ocrmp columns, its own rows in it.
ORIGINAL_TABLE = """
CREATE TABLE extraction_queue (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    document_number text NOT NULL,
    document_source text NOT NULL,
    status_id integer NOT NULL DEFAULT 1,
    worker_id text,
    supabase_path text,
    file_content text,
    boosted_file_content text,
    ocr_worker_id text,
    ocr_started_at timestamptz,
    ocr_completed_at timestamptz,
    ocr_attempts integer DEFAULT 0,
    ocr_max_attempts integer DEFAULT 3,
    ocr_error text,
    ocr_last_error_at timestamptz,
    created_at timestamptz DEFAULT now(),
    downloader_note text
);
INSERT INTO extraction_queue (document_number, document_source, status_id, worker_id,
                              supabase_path, downloader_note)
VALUES ('1 234 567', 'acte', 3, 'dl-worker-2', 'actes/1234567.pdf', 'keep me'),
       ('7 654 321', 'index', 2, 'dl-worker-1', NULL, 'downloading');
"""


def columns(dsn: str) -> set[str]:
    with psycopg.connect(dsn) as conn:
        rows = conn.execute("SELECT column_name FROM information_schema.columns "
                            "WHERE table_name = 'extraction_queue'").fetchall()
    return {row[0] for row in rows}


def test_migrate_empty_database_applies_every_file_once(empty_dsn: str) -> None:
    names = [name for name, _ in migrations()]
    assert migrate(empty_dsn) == names
    assert migrate(empty_dsn) == []
    assert pending(empty_dsn) == []
    assert {"ocr_lease_expires_at", "ocr_next_attempt_at", "ocr_result",
            "status_id", "supabase_path", "file_content"} <= columns(empty_dsn)


def test_migrate_original_table_adds_columns_and_keeps_downloader_data(empty_dsn: str) -> None:
    with psycopg.connect(empty_dsn, autocommit=True) as conn:
        conn.execute(ORIGINAL_TABLE)
    assert pending(empty_dsn) == [name for name, _ in migrations()]
    migrate(empty_dsn)
    assert {"ocr_lease_expires_at", "downloader_note"} <= columns(empty_dsn)
    with psycopg.connect(empty_dsn) as conn:
        rows = conn.execute("SELECT document_number, status_id, worker_id, downloader_note "
                            "FROM extraction_queue ORDER BY document_number").fetchall()
    assert rows == [("1 234 567", 3, "dl-worker-2", "keep me"),
                    ("7 654 321", 2, "dl-worker-1", "downloading")]
    # The downloader's ready row is claimable by ocrmp at once.
    jobs = JobStore(empty_dsn).claim([("w1", "acte")], lease_s=30)
    assert [job.document_number for job in jobs] == ["1 234 567"]


def test_trigger_notifies_when_a_row_becomes_ready(dsn: str) -> None:
    with psycopg.connect(dsn, autocommit=True) as listener, \
            psycopg.connect(dsn, autocommit=True) as writer:
        listener.execute("LISTEN ocrmp_ready")
        writer.execute("INSERT INTO extraction_queue (document_number, document_source, status_id)"
                       " VALUES ('1', 'index', 1)")
        writer.execute("UPDATE extraction_queue SET status_id = 3")
        note = next(listener.notifies(timeout=5))
    assert (note.channel, note.payload) == ("ocrmp_ready", "")


def test_a_long_document_source_does_not_stop_the_upstreams_insert(dsn: str) -> None:
    """NOTIFY refuses a payload of 8,000 bytes or more: the trigger sends none of the row."""
    with psycopg.connect(dsn, autocommit=True) as writer:
        writer.execute("INSERT INTO extraction_queue (document_number, document_source, "
                       "status_id) VALUES ('1', %s, 3)", ("x" * 9000,))
        [(count,)] = writer.execute("SELECT count(*) FROM extraction_queue").fetchall()
    assert count == 1
