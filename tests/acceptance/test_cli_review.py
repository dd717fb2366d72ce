"""`ocrmp review` run for real: flagged done documents listed, filtered, and read again."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import psycopg
import pytest

from ocrmp.exitcodes import ExitCode
from ocrmp.vocabulary import PageFlag
from tests.acceptance.test_cli_db import ocrmp, one_line_error
from tests.flagged import insert_done, ocr_result

LOW, WORDS, HAND = PageFlag.LOW_CONFIDENCE, PageFlag.NON_WORDS, PageFlag.HANDWRITING
TURNED, TABLE = PageFlag.ORIENTATION_UNCERTAIN, PageFlag.TABLE_UNREAD


@pytest.fixture
def docs(dsn: str) -> dict[str, str]:
    """Four flagged done documents (a oldest, d newest) and rows review must leave alone."""
    ids = {
        "a": insert_done(dsn, "acte", ocr_result("acte", [], [LOW]), minutes_ago=30,
                         document_number="A-1"),
        "b": insert_done(dsn, "index", ocr_result("index", [TABLE], [], [HAND]),
                         minutes_ago=20, document_number="B-2"),
        "c": insert_done(dsn, "acte", ocr_result("acte", [LOW, WORDS]), minutes_ago=10,
                         document_number="C-3"),
        "d": insert_done(dsn, "acte", ocr_result("acte", [TURNED], []), minutes_ago=5,
                         document_number="D-4"),
        "clean": insert_done(dsn, "acte", ocr_result("acte", [], []), minutes_ago=1),
        "older": insert_done(dsn, "acte", {"pages": 1, "page_results": [{"text": "x"}]}),
        "none": insert_done(dsn, "acte", None),
        "errored": insert_done(dsn, "acte", ocr_result("acte", [LOW]), status_id=4,
                               ocr_error="fake"),
        "ready": insert_done(dsn, "acte", ocr_result("acte", [LOW]), status_id=3),
    }
    return ids


def snapshot(dsn: str) -> dict[str, dict[str, Any]]:
    with psycopg.connect(dsn) as conn, conn.cursor(row_factory=psycopg.rows.dict_row) as cur:
        cur.execute("SELECT id::text, status_id, ocr_attempts, ocr_error, ocr_completed_at, "
                    "ocr_result::text FROM extraction_queue")
        return {row["id"]: row for row in cur.fetchall()}


def listed(done: Any, docs: dict[str, str]) -> list[str]:
    """The names of the documents a text listing shows, in order."""
    assert done.returncode == 0, done.stderr
    names = {job_id: name for name, job_id in docs.items()}
    return [names[line.split()[0]] for line in done.stdout.splitlines()
            if line.split()[0] in names]


def test_newest_first_with_each_flagged_page_and_its_reasons(dsn: str, tmp_path: Path,
                                                             docs: dict[str, str]) -> None:
    done = ocrmp(dsn, tmp_path, "review")
    assert listed(done, docs) == ["d", "c", "b", "a"]
    lines = done.stdout.splitlines()
    [b_line] = [line for line in lines if line.startswith(docs["b"])]
    assert b_line.startswith(f"{docs['b']}  B-2  index  ")
    assert b_line.endswith("  page 1: table_unread; page 3: handwriting")
    assert lines[-1] == "4 documents with flagged pages in dev, newest first"


@pytest.mark.parametrize(("args", "names", "last"), [
    (("--kind", "acte"), ["d", "c", "a"], "3 acte documents with flagged pages in dev"),
    (("--flag", "low_confidence"), ["c", "a"], "2 documents flagged low_confidence in dev"),
    (("--flag", "handwriting", "--flag", "orientation_uncertain"), ["d", "b"],
     "2 documents flagged handwriting or orientation_uncertain in dev"),
    (("--kind", "index", "--flag", "low_confidence"), [],
     "0 index documents flagged low_confidence in dev"),
    (("--limit", "2"), ["d", "c"], "2 documents with flagged pages in dev"),
])
def test_kind_flag_and_limit_narrow_the_list(dsn: str, tmp_path: Path, docs: dict[str, str],
                                             args: tuple[str, ...], names: list[str],
                                             last: str) -> None:
    done = ocrmp(dsn, tmp_path, "review", *args)
    assert listed(done, docs) == names
    assert done.stdout.splitlines()[-1].startswith(last)
    limited = "--limit" in args
    assert done.stdout.rstrip().endswith("(--limit 2 reached: there may be more)") == limited


def test_json_for_scripts(dsn: str, tmp_path: Path, docs: dict[str, str]) -> None:
    done = ocrmp(dsn, tmp_path, "review", "--json", "--kind", "index")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    [document] = report["documents"]
    completed = datetime.fromisoformat(document.pop("completed_at"))
    assert report == {"env": "dev", "documents": [{
        "id": docs["b"], "document_number": "B-2", "kind": "index",
        "pages": [{"page": 1, "flags": ["table_unread"]}, {"page": 3, "flags": ["handwriting"]}],
    }]}
    assert completed == snapshot(dsn)[docs["b"]]["ocr_completed_at"]


def test_an_unknown_reason_is_one_line_exit_2_and_changes_nothing(
        dsn: str, tmp_path: Path, docs: dict[str, str]) -> None:
    before = snapshot(dsn)
    done = ocrmp(dsn, tmp_path, "review", "--flag", "smudged", "--requeue")
    assert done.returncode == ExitCode.USAGE
    assert "'smudged' is not one of 'low_confidence'" in one_line_error(done)
    assert done.stdout == ""
    assert snapshot(dsn) == before


def test_dry_run_without_requeue_is_a_usage_error(dsn: str, tmp_path: Path) -> None:
    done = ocrmp(dsn, tmp_path, "review", "--dry-run")
    assert done.returncode == ExitCode.USAGE
    assert "--dry-run goes with --requeue" in one_line_error(done)


def test_requeue_moves_exactly_the_listed_documents(dsn: str, tmp_path: Path,
                                                    docs: dict[str, str]) -> None:
    before = snapshot(dsn)
    done = ocrmp(dsn, tmp_path, "review", "--kind", "acte", "--limit", "2", "--requeue")
    assert listed(done, docs) == ["d", "c"]
    assert done.stdout.splitlines()[-1] == "moved 2 jobs back to ready (3) in dev"
    after = snapshot(dsn)
    moved = {docs["c"], docs["d"]}
    for job_id in moved:
        row = after[job_id]
        assert (row["status_id"], row["ocr_attempts"], row["ocr_completed_at"]) == (3, 0, None)
        assert row["ocr_result"] == before[job_id]["ocr_result"]  # kept until read again
    assert {job_id: row for job_id, row in after.items() if job_id not in moved} == \
        {job_id: row for job_id, row in before.items() if job_id not in moved}
    assert listed(ocrmp(dsn, tmp_path, "review"), docs) == ["b", "a"]


def test_requeue_dry_run_lists_what_would_move_and_changes_nothing(
        dsn: str, tmp_path: Path, docs: dict[str, str]) -> None:
    before = snapshot(dsn)
    done = ocrmp(dsn, tmp_path, "review", "--flag", "low_confidence", "--requeue", "--dry-run",
                 "--json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert (report["requeued"], report["dry_run"]) == ([docs["c"], docs["a"]], True)
    assert snapshot(dsn) == before
    text = ocrmp(dsn, tmp_path, "review", "--requeue", "--dry-run")
    assert text.stdout.splitlines()[-1] == "would move 4 jobs back to ready (3) in dev"
    assert snapshot(dsn) == before


def test_requeue_of_an_empty_listing_moves_nothing(dsn: str, tmp_path: Path,
                                                   docs: dict[str, str]) -> None:
    before = snapshot(dsn)
    done = ocrmp(dsn, tmp_path, "review", "--flag", "overlong", "--requeue")
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == "moved 0 jobs back to ready (3) in dev"
    assert snapshot(dsn) == before
