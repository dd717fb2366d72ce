"""`db check`'s diagnosis against a real PostgreSQL: every reason a job waits, counted."""

from __future__ import annotations

from typing import Any

import psycopg

from ocrmp import diagnose as diag
from ocrmp.schema import migrate
from ocrmp.sqlfiles import migrations
from ocrmp.store import JobStore
from tests.integration.test_schema import ORIGINAL_TABLE


def insert(dsn: str, n: int = 1, **columns: Any) -> list[str]:
    """n rows with these column values; SQL expressions are passed as ('sql', text)."""
    values = {"document_number": "1", "document_source": "acte", "status_id": 3,
              "supabase_path": "acte/x.pdf", **columns}
    names = ", ".join(values)
    holes = ", ".join(value[1] if isinstance(value, tuple) else f"%({key})s"
                      for key, value in values.items())
    params = {key: value for key, value in values.items() if not isinstance(value, tuple)}
    with psycopg.connect(dsn, autocommit=True) as conn:
        return [str(conn.execute(f"INSERT INTO extraction_queue ({names}) VALUES ({holes}) "
                                 "RETURNING id", params).fetchone()[0])  # type: ignore[index]
                for _ in range(n)]


def execute(dsn: str, sql: str) -> None:
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(sql)


def report(dsn: str) -> diag.Report:
    store = JobStore(dsn)
    try:
        return diag.diagnose(store)
    finally:
        store.close()


def by_code(found: diag.Report) -> dict[str, diag.Finding]:
    return {finding.code: finding for finding in found.findings}


HOUR_AGO = ("sql", "now() - interval '2 hours'")


def test_fresh_database_is_healthy(dsn: str) -> None:
    found = report(dsn)
    assert found.healthy, diag.render(found)
    assert {code: f.level for code, f in by_code(found).items()} == {
        "columns": "ok", "trigger": "ok", "claim_index": "ok", "pending_migrations": "ok",
        "status_ids": "ok", "claimable": "ok"}


def test_every_reason_a_ready_job_waits_is_reported_with_its_count(dsn: str) -> None:
    claimable = insert(dsn, 2)
    exhausted = insert(dsn, 3, ocr_attempts=3, ocr_max_attempts=3)
    insert(dsn, 2, ocr_attempts=1, ocr_next_attempt_at=("sql", "now() + interval '1 hour'"))
    unknown = insert(dsn, 1, document_source="cadastre") + insert(dsn, 1, document_source=None)
    insert(dsn, 1, document_source="plan_cadastraux")
    missing = insert(dsn, 2, supabase_path=None) + insert(dsn, 1, supabase_path="")
    expired = insert(dsn, 2, status_id=6, ocr_attempts=1, ocr_worker_id="gone-1",
                     ocr_lease_expires_at=("sql", "now() - interval '1 minute'"))
    insert(dsn, 1, status_id=6, ocr_attempts=1, ocr_started_at=HOUR_AGO)
    insert(dsn, 1, status_id=6, ocr_attempts=1,
           ocr_lease_expires_at=("sql", "now() + interval '1 minute'"))  # running: fine
    insert(dsn, 1, status_id=2, created_at=HOUR_AGO)
    insert(dsn, 1, status_id=2)  # a download that just began: fine

    found = report(dsn)
    codes = by_code(found)
    counts = {code: f.count for code, f in codes.items() if f.count}
    assert counts == {"claimable": 2, "exhausted": 3, "backoff": 2, "unknown_kind": 2,
                      "plan": 1, "missing_path": 3, "lease_expired": 2, "unleased": 1,
                      "downloading": 1}
    assert {code for code, f in codes.items() if f.level == "problem"} == {
        "exhausted", "unknown_kind", "missing_path"}
    assert not found.healthy
    assert sorted(codes["exhausted"].examples) == sorted(exhausted)
    assert "ocrmp requeue --exhausted --env dev" in codes["exhausted"].hint
    assert "'cadastre'" in codes["unknown_kind"].message
    assert "'NULL'" in codes["unknown_kind"].message
    assert sorted(codes["unknown_kind"].examples) == sorted(unknown)
    assert sorted(codes["missing_path"].examples) == sorted(missing)
    assert sorted(codes["lease_expired"].examples) == sorted(expired)
    assert sorted(codes["claimable"].examples) == sorted(claimable)
    assert "wait on retry backoff until 20" in codes["backoff"].message


def test_waiting_jobs_are_exactly_those_the_claim_skips(dsn: str) -> None:
    """The diagnosis and the claim agree: what it calls claimable is what gets claimed."""
    insert(dsn, 2)
    insert(dsn, 1, ocr_attempts=3)
    insert(dsn, 1, ocr_next_attempt_at=("sql", "now() + interval '1 hour'"))
    claimable = by_code(report(dsn))["claimable"].count
    claimed = JobStore(dsn).claim([(f"w{i}", "acte") for i in range(10)], lease_s=30)
    assert claimable == len(claimed) == 2


def test_null_attempts_on_the_original_table_are_diagnosed(empty_dsn: str) -> None:
    execute(empty_dsn, ORIGINAL_TABLE)
    migrate(empty_dsn)
    # The downloader's table kept its nullable column: NULL attempts never compare.
    insert(empty_dsn, 2, ocr_attempts=None)
    codes = by_code(report(empty_dsn))
    assert codes["null_attempts"].count == 2 and codes["null_attempts"].level == "problem"
    assert codes["claimable"].count == 1


def test_schema_problems_are_named(dsn: str) -> None:
    execute(dsn, "ALTER TABLE extraction_queue DISABLE TRIGGER ocrmp_notify_ready")
    execute(dsn, "DROP INDEX extraction_queue_ocr_ready_order")
    execute(dsn, "UPDATE extraction_status SET name = 'Erreur' WHERE id = 6")
    execute(dsn, "DELETE FROM extraction_status WHERE id = 5")
    codes = by_code(report(dsn))
    assert "disabled" in codes["trigger"].message
    assert "missing" in codes["claim_index"].message
    assert "6 is 'Erreur' here" in codes["status_ids"].message
    assert "5 is absent" in codes["status_ids"].message
    assert all(codes[code].level == "problem" for code in ("trigger", "claim_index",
                                                           "status_ids"))


def test_missing_columns_skip_the_job_checks(dsn: str) -> None:
    execute(dsn, "ALTER TABLE extraction_queue DROP COLUMN ocr_next_attempt_at")
    codes = by_code(report(dsn))
    assert "ocr_next_attempt_at" in codes["columns"].message
    assert "claimable" not in codes


def test_empty_database_has_no_table_and_pending_migrations(empty_dsn: str) -> None:
    found = report(empty_dsn)
    assert [(f.code, f.level, f.count) for f in found.findings] == [
        ("no_table", "problem", 0), ("pending_migrations", "problem", len(migrations()))]
    assert "ocrmp db migrate" in found.findings[0].hint


def test_status_names_match_regardless_of_case_and_accents() -> None:
    names = {3: "COMPLETE", 4: "erreur", 5: "Extraction complétée", 6: "OCR en traitement"}
    assert [f.level for f in diag.status_findings(names)] == ["ok"]


def test_render_says_healthy_or_counts_problems() -> None:
    found = diag.Report("prod", "db:5432/q", [
        diag.Finding("ok", "trigger", "trigger ocrmp_notify_ready is enabled"),
        diag.Finding("problem", "exhausted", "3 ready jobs used all their attempts", 3,
                     ("a", "b"), "ocrmp requeue --exhausted --env prod")])
    text = diag.render(found)
    assert text.splitlines()[0] == "prod (db:5432/q): 1 problem"
    assert "e.g. a, b" in text and "→ ocrmp requeue --exhausted --env prod" in text
