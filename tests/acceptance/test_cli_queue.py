"""`ocrmp enqueue` and `ocrmp requeue` run for real, as subprocesses."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any

import psycopg
import pytest

from ocrmp.exitcodes import ExitCode
from ocrmp.ocr.storage import LocalStorage
from tests.acceptance.test_cli_db import ocrmp, one_line_error
from tests.integration.test_diagnose import insert
from tests.tinydocs import document

NOBODY = 65534
EXPIRED = ("sql", "now() - interval '1 minute'")
LIVE = ("sql", "now() + interval '10 minutes'")


def rows(dsn: str) -> list[dict[str, Any]]:
    with psycopg.connect(dsn) as conn, conn.cursor(row_factory=psycopg.rows.dict_row) as cur:
        cur.execute("SELECT id::text, document_number, document_source, status_id, "
                    "supabase_path, ocr_attempts, ocr_error, ocr_lease_expires_at, "
                    "ocr_worker_id FROM extraction_queue ORDER BY created_at, document_number")
        return cur.fetchall()


def write(path: Path, content: bytes | None = None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(document() if content is None else content)
    return path


# -- enqueue ---------------------------------------------------------------------------

def test_files_directories_and_globs_are_copied_and_queued(dsn: str, tmp_path: Path) -> None:
    scans = tmp_path / "scans"
    write(scans / "1234567.pdf")
    tiff, b_png = document(1, "TIFF"), document(3, "PNG")
    write(scans / "deep" / "nested" / "7654321.TIF", tiff)
    write(scans / "notes.txt", b"not a scan")  # skipped inside a directory
    write(tmp_path / "loose" / "a.png", document(2, "PNG"))
    write(tmp_path / "loose" / "b.png", b_png)
    done = ocrmp(dsn, tmp_path, "enqueue", str(scans), str(tmp_path / "loose" / "*.png"),
                 "--kind", "acte")
    assert done.returncode == 0, done.stderr
    assert done.stdout == "enqueued 4 documents (acte) into dev\n"
    queued = rows(dsn)
    assert sorted(row["document_number"] for row in queued) == ["1234567", "7654321", "a", "b"]
    assert {(row["status_id"], row["document_source"]) for row in queued} == {(3, "acte")}
    storage = LocalStorage(str(tmp_path / "storage"), max_bytes=1 << 20)
    by_number = {row["document_number"]: row["supabase_path"] for row in queued}
    assert by_number["1234567"].startswith("acte/1234567-")
    assert storage.fetch(by_number["7654321"]) == tiff
    assert storage.fetch(by_number["b"]) == b_png


def test_same_name_different_content_never_collides(dsn: str, tmp_path: Path) -> None:
    first = write(tmp_path / "one" / "scan.pdf", document(1))
    second = write(tmp_path / "two" / "scan.pdf", document(2))
    done = ocrmp(dsn, tmp_path, "enqueue", str(first), str(second), "--kind", "index")
    assert done.returncode == 0, done.stderr
    paths = [row["supabase_path"] for row in rows(dsn)]
    assert len(set(paths)) == 2 and all(path.startswith("index/scan-") for path in paths)
    storage = LocalStorage(str(tmp_path / "storage"), max_bytes=1 << 20)
    assert sorted(storage.fetch(path) for path in paths) == sorted([document(1), document(2)])


def test_many_files_show_progress_and_go_in_together(dsn: str, tmp_path: Path) -> None:
    for number in range(25):
        write(tmp_path / "batch" / f"{number:03d}.pdf", document(number))
    done = ocrmp(dsn, tmp_path, "enqueue", str(tmp_path / "batch"), "--kind", "index",
                 "--env", "dev")
    assert done.returncode == 0, done.stderr
    assert "storing" in done.stderr
    assert done.stdout == "enqueued 25 documents (index) into dev\n"
    assert len(rows(dsn)) == 25


def test_document_number_and_reference(dsn: str, tmp_path: Path) -> None:
    inside = write(tmp_path / "storage" / "registry" / "x.pdf")
    done = ocrmp(dsn, tmp_path, "enqueue", str(inside), "--kind", "acte", "--reference",
                 "--document-number", "1 234 567")
    assert done.returncode == 0, done.stderr
    [row] = rows(dsn)
    assert (row["supabase_path"], row["document_number"]) == ("registry/x.pdf", "1 234 567")


def test_reference_outside_the_root_is_refused(dsn: str, tmp_path: Path) -> None:
    (tmp_path / "storage").mkdir()
    outside = write(tmp_path / "elsewhere" / "x.pdf")
    done = ocrmp(dsn, tmp_path, "enqueue", str(outside), "--kind", "acte", "--reference")
    assert done.returncode == ExitCode.INPUT
    assert "is outside the storage root" in one_line_error(done)
    assert rows(dsn) == []


@pytest.mark.parametrize(("argument", "message"), [
    ("missing.pdf", "missing.pdf: no such file or directory"),
    ("*.nothing", "no PDF or image file matches this pattern"),
    ("notes.txt", "notes.txt: not a PDF or image file"),
    ("empty", "no PDF or image"),
])
def test_bad_input_is_one_line_exit_input_and_nothing_queued(
        dsn: str, tmp_path: Path, argument: str, message: str) -> None:
    good = write(tmp_path / "good.pdf")
    write(tmp_path / "notes.txt", b"text")
    (tmp_path / "empty").mkdir()
    done = ocrmp(dsn, tmp_path, "enqueue", str(good), str(tmp_path / argument),
                 "--kind", "acte")
    assert done.returncode == ExitCode.INPUT
    assert message in one_line_error(done)
    assert rows(dsn) == []
    assert not (tmp_path / "storage").exists()


@pytest.mark.parametrize("args", [
    ("--kind", "deed"),
    ("--kind", "acte", "--document-number", "1", "{dir}"),
])
def test_bad_values_are_usage_errors(dsn: str, tmp_path: Path, args: tuple[str, ...]) -> None:
    write(tmp_path / "docs" / "a.pdf")
    write(tmp_path / "docs" / "b.pdf", document(1))
    done = ocrmp(dsn, tmp_path, "enqueue", str(tmp_path / "docs" / "a.pdf"),
                 *(arg.format(dir=tmp_path / "docs") for arg in args))
    assert done.returncode == ExitCode.USAGE
    one_line_error(done)
    assert rows(dsn) == []


# -- requeue ---------------------------------------------------------------------------

@pytest.fixture
def jobs(dsn: str) -> dict[str, str]:
    """One job in each state requeue must or must not touch, by name."""
    [timeout] = insert(dsn, document_number="timeout", status_id=4, ocr_attempts=3,
                       ocr_error="Tesseract TIMEOUT on page 3")
    [corrupt] = insert(dsn, document_number="corrupt", document_source="index", status_id=4,
                       ocr_attempts=1, ocr_error="document is damaged")
    [exhausted] = insert(dsn, document_number="exhausted", ocr_attempts=3)
    [stuck] = insert(dsn, document_number="stuck", status_id=6, ocr_attempts=2,
                     ocr_worker_id="gone", ocr_lease_expires_at=EXPIRED)
    [unleased] = insert(dsn, document_number="unleased", status_id=6, ocr_attempts=1,
                        ocr_started_at=("sql", "now() - interval '2 hours'"))
    [running] = insert(dsn, document_number="running", status_id=6, ocr_attempts=1,
                       ocr_worker_id="alive", ocr_lease_expires_at=LIVE)
    [done] = insert(dsn, document_number="done", status_id=5, ocr_attempts=1)
    [waiting] = insert(dsn, document_number="waiting", status_id=1)
    [downloading] = insert(dsn, document_number="downloading", status_id=2)
    return {"timeout": timeout, "corrupt": corrupt, "exhausted": exhausted, "stuck": stuck,
            "unleased": unleased, "running": running, "done": done, "waiting": waiting,
            "downloading": downloading}


def status_of(dsn: str) -> dict[str, int]:
    return {row["document_number"]: row["status_id"] for row in rows(dsn)}


def test_dry_run_lists_and_changes_nothing(dsn: str, tmp_path: Path,
                                           jobs: dict[str, str]) -> None:
    before = rows(dsn)
    done = ocrmp(dsn, tmp_path, "requeue", "--all", "--dry-run")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[-1] == "would move 5 jobs back to ready (3) in dev"
    assert f"{jobs['timeout']}  timeout  acte  4 error  Tesseract TIMEOUT on page 3" in lines
    assert {line.split()[1] for line in lines[:-1]} == {"timeout", "corrupt", "exhausted",
                                                        "stuck", "unleased"}
    assert rows(dsn) == before


def test_by_error_text_then_all(dsn: str, tmp_path: Path, jobs: dict[str, str]) -> None:
    done = ocrmp(dsn, tmp_path, "requeue", "--error-contains", "timeout")
    assert (done.returncode, done.stdout) == (0, "moved 1 job back to ready (3) in dev\n")
    assert status_of(dsn)["timeout"] == 3 and status_of(dsn)["corrupt"] == 4
    done = ocrmp(dsn, tmp_path, "requeue", "--all")
    assert done.stdout == "moved 4 jobs back to ready (3) in dev\n"
    after = {row["document_number"]: row for row in rows(dsn)}
    for name in ("timeout", "corrupt", "exhausted", "stuck", "unleased"):
        row = after[name]
        assert (row["status_id"], row["ocr_attempts"], row["ocr_error"],
                row["ocr_lease_expires_at"], row["ocr_worker_id"]) == (3, 0, None, None, None)
    assert {name: after[name]["status_id"] for name in ("running", "done", "waiting",
                                                         "downloading")} == {
        "running": 6, "done": 5, "waiting": 1, "downloading": 2}
    assert after["running"]["ocr_worker_id"] == "alive"


def test_stuck_exhausted_kind_and_ids_choose_only_theirs(dsn: str, tmp_path: Path,
                                                          jobs: dict[str, str]) -> None:
    assert ocrmp(dsn, tmp_path, "requeue", "--stuck").stdout.startswith("moved 2 jobs")
    assert status_of(dsn)["stuck"] == status_of(dsn)["unleased"] == 3
    assert status_of(dsn)["timeout"] == 4
    assert ocrmp(dsn, tmp_path, "requeue", "--kind", "index").stdout.startswith("moved 1 job")
    assert status_of(dsn)["corrupt"] == 3 and status_of(dsn)["timeout"] == 4
    done = ocrmp(dsn, tmp_path, "requeue", "--id", jobs["timeout"], "--id", jobs["running"],
                 "--id", "no-such-id")
    assert done.stdout == "moved 1 job back to ready (3) in dev\n"
    assert done.stderr == (f"not moved (not errored, exhausted or stuck, or unknown): "
                           f"{', '.join(sorted([jobs['running'], 'no-such-id']))}\n")
    assert status_of(dsn)["running"] == 6
    [exhausted] = [row for row in rows(dsn) if row["document_number"] == "exhausted"]
    assert exhausted["ocr_attempts"] == 3  # untouched until asked for
    assert ocrmp(dsn, tmp_path, "requeue", "--exhausted").stdout.startswith("moved 1 job")


# -- enqueue: the door ------------------------------------------------------------------

@pytest.mark.parametrize(("content", "kind"), [
    (b"just some notes, not a scan\n", "unsupported_format"),
    (b"", "empty_document"),
    (b"%PDF-1.4\ntruncated", "corrupt_document"),
])
def test_a_file_the_ocr_would_refuse_queues_nothing(dsn: str, tmp_path: Path, content: bytes,
                                                    kind: str) -> None:
    good = write(tmp_path / "good.pdf")
    bad = write(tmp_path / "bad.pdf", content)
    done = ocrmp(dsn, tmp_path, "enqueue", str(good), str(bad), "--kind", "acte")
    assert done.returncode == ExitCode.INPUT
    assert str(bad) in one_line_error(done)
    assert rows(dsn) == []
    assert not (tmp_path / "storage").exists()


def test_the_same_content_twice_makes_one_row(dsn: str, tmp_path: Path) -> None:
    scan = write(tmp_path / "scan.pdf", document(7))
    first = ocrmp(dsn, tmp_path, "enqueue", str(scan), "--kind", "acte")
    assert first.returncode == 0, first.stderr
    [queued] = rows(dsn)
    copy = write(tmp_path / "renamed.pdf", document(7))
    again = ocrmp(dsn, tmp_path, "enqueue", str(copy), "--kind", "acte")
    assert again.returncode == ExitCode.INPUT
    assert queued["id"] in one_line_error(again)  # the row it duplicates
    assert len(rows(dsn)) == 1
    forced = ocrmp(dsn, tmp_path, "enqueue", str(copy), "--kind", "acte", "--allow-duplicate")
    assert forced.returncode == 0, forced.stderr
    assert len(rows(dsn)) == 2


def test_the_same_content_given_twice_at_once_is_refused(dsn: str, tmp_path: Path) -> None:
    one = write(tmp_path / "a.pdf", document(5))
    two = write(tmp_path / "b.pdf", document(5))
    done = ocrmp(dsn, tmp_path, "enqueue", str(one), str(two), "--kind", "acte")
    assert done.returncode == ExitCode.INPUT
    assert rows(dsn) == []


# -- enqueue: private copies ----------------------------------------------------------

def as_nobody_can_read(path: Path) -> bool:
    done = subprocess.run(["cat", str(path)], user=NOBODY, capture_output=True, check=False)
    return done.returncode == 0


@pytest.mark.skipif(os.geteuid() != 0, reason="reading as another user needs root")
def test_copies_are_private_and_no_parent_is_loosened(dsn: str, tmp_path: Path) -> None:
    private = tmp_path / "private"
    private.mkdir(mode=0o700)
    private.chmod(0o700)
    scan = write(tmp_path / "scan.pdf")
    root = private / "data" / "storage"
    done = ocrmp(dsn, tmp_path, "enqueue", str(scan), "--kind", "acte",
                 "--storage-root", str(root))
    assert done.returncode == 0, done.stderr
    [queued] = rows(dsn)
    copy = root / queued["supabase_path"]
    assert private.stat().st_mode & 0o777 == 0o700
    assert copy.stat().st_mode & 0o777 == 0o600
    assert {level.stat().st_mode & 0o777 for level in (copy.parent, root, root.parent)} == {0o700}
    private.chmod(0o755)  # even with the way open, the copy is not for other users
    assert not as_nobody_can_read(copy)


def test_a_file_name_that_is_not_utf8_is_one_line_and_nothing_stored(
        dsn: str, tmp_path: Path) -> None:
    scans = tmp_path / "scans"
    write(scans / "good.pdf")
    (Path(os.fsdecode(bytes(scans) + b"/scan-\xe9.pdf"))).write_bytes(b"%PDF-1.4 latin-1 name")
    done = ocrmp(dsn, tmp_path, "enqueue", str(scans), "--kind", "acte")
    assert done.returncode == ExitCode.INPUT
    one_line_error(done)
    assert rows(dsn) == []
    assert not (tmp_path / "storage").exists()


@pytest.mark.skipif(os.geteuid() != 0, reason="choosing another group needs root")
def test_a_storage_shared_with_a_group_gets_group_readable_copies(
        dsn: str, tmp_path: Path) -> None:
    root = tmp_path / "storage"
    root.mkdir()
    os.chown(root, 0, NOBODY)  # the group the operator shares the storage with
    root.chmod(0o2750)
    done = ocrmp(dsn, tmp_path, "enqueue", str(write(tmp_path / "scan.pdf")), "--kind",
                 "acte", "--storage-root", str(root))
    assert done.returncode == 0, done.stderr
    [queued] = rows(dsn)
    copy = root / queued["supabase_path"]
    assert (copy.stat().st_mode & 0o7777, copy.stat().st_gid) == (0o640, NOBODY)
    assert (copy.parent.stat().st_mode & 0o7777, copy.parent.stat().st_gid) == (0o2750, NOBODY)
