"""The web console under test: a queue holding done, flagged and failed documents with real
PDFs in storage, and `ocrmp web` started on it as a subprocess.

Results are written by the pipeline's own result classes (tests/flagged.py), as a pool with
the fake engine would leave them; attempts are rows of ocrmp_job_attempts inserted here.
"""

from __future__ import annotations

import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
from PIL import Image, ImageDraw

from ocrmp.embedded import free_port
from ocrmp.ocr.pipeline import OcrResult
from ocrmp.ocr.result import PageResult
from ocrmp.vocabulary import PageFlag
from tests.acceptance.test_cli_db import cli_environment
from tests.flagged import insert_done

PAGE_W, PAGE_H = 850, 1100  # a letter page at 100 dpi
# Two words on the flagged page, in its scan's pixels.
WORDS = [[100, 120, 260, 160, 91, "Vente"], [280, 120, 420, 160, 35, "Qu3bec"]]
LEDGER_ROW = {"date": "1952-03-04", "numero": "123 456", "nature": "Vente",
              "qualite": "", "parties": "Tremblay à Gagnon", "remarques": "",
              "avis_adresse": "", "radiations": ""}


def write_pdf(path: Path, pages: int = 1) -> None:
    """A scanned-looking PDF: each page one image with a few dark bars."""
    images = []
    for n in range(pages):
        image = Image.new("L", (PAGE_W, PAGE_H), 245)
        draw = ImageDraw.Draw(image)
        for row in range(6):
            draw.rectangle((100, 120 + 60 * row, 420 + 30 * n, 160 + 60 * row), fill=30)
        images.append(image)
    path.parent.mkdir(parents=True, exist_ok=True)
    images[0].save(path, "PDF", resolution=100.0, save_all=True, append_images=images[1:])


def page(index: int, flags: list[PageFlag], *, text: str = "",
         rows: list[dict[str, Any]] | None = None) -> PageResult:
    return PageResult(index=index, text=text or f"page {index + 1}",
                      confidence=41.5 if flags else 93.0, width=PAGE_W, height=PAGE_H,
                      dpi=100.0, low_confidence=PageFlag.LOW_CONFIDENCE in flags,
                      flags=list(flags), rows=rows)


def with_layout(result: dict[str, Any], page_number: int) -> dict[str, Any]:
    """The result with word boxes on one page (the `layout` of the result's definition)."""
    entry = result["page_results"][page_number - 1]
    entry["layout"] = {"lines": [{"box": [100, 120, 420, 160], "words": WORDS}]}
    return result


@dataclass(frozen=True)
class Queue:
    done: str
    flagged: str
    ledger: str
    failed: str
    ready: str


def seed(dsn: str, storage: Path) -> Queue:
    """Done, flagged, ledger, failed and ready documents, their PDFs under `storage`."""
    for name, pages in (("done", 1), ("flagged", 2), ("ledger", 1), ("failed", 1),
                        ("ready", 1)):
        write_pdf(storage / "acte" / f"{name}.pdf", pages)
    done = insert_done(dsn, "acte", OcrResult("acte", "fake", [page(0, [])]).to_json(),
                       minutes_ago=20, document_number="DONE-1",
                       supabase_path="acte/done.pdf", ocr_page_count=1)
    flagged_result = OcrResult("acte", "fake", [page(0, [PageFlag.LOW_CONFIDENCE],
                                                     text="Vente Qu3bec"),
                                                page(1, [])]).to_json()
    flagged = insert_done(dsn, "acte", with_layout(flagged_result, 1), minutes_ago=10,
                          document_number="FLAG-2", supabase_path="acte/flagged.pdf",
                          ocr_page_count=2)
    ledger = insert_done(dsn, "index", OcrResult("index", "fake", [
        page(0, [], rows=[LEDGER_ROW])]).to_json(), minutes_ago=5, document_number="LEDG-3",
                         supabase_path="acte/ledger.pdf", ocr_page_count=1)
    failed = insert_done(dsn, "acte", None, status_id=4, document_number="FAIL-4",
                         supabase_path="acte/failed.pdf", ocr_attempts=2,
                         ocr_error="corrupt_document: acte/failed.pdf: cannot be OCR'd "
                                   "(damaged xref)")
    ready = insert_done(dsn, "acte", None, status_id=3, document_number="READY-5",
                        supabase_path="acte/ready.pdf", ocr_completed_at=None)
    add_attempt(dsn, failed, 1, "retry", "storage_unavailable", "timed out")
    add_attempt(dsn, failed, 2, "failed", "corrupt_document", "damaged xref")
    return Queue(done, flagged, ledger, failed, ready)


def add_attempt(dsn: str, job_id: str, attempt: int, outcome: str | None,
                error_kind: str | None = None, message: str | None = None) -> None:
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO ocrmp_job_attempts (job_id, attempt, worker, host, started_at, "
            "ended_at, outcome, error_kind, error_message) VALUES (%s, %s, 'w0', 'host-a', "
            "now() - make_interval(mins => 30 - %s), now() - make_interval(mins => 29 - %s), "
            "%s, %s, %s)",
            (job_id, attempt, attempt, attempt, outcome, error_kind, message))


def row(dsn: str, job_id: str) -> dict[str, Any]:
    with psycopg.connect(dsn) as conn, conn.cursor(row_factory=psycopg.rows.dict_row) as cur:
        cur.execute("SELECT status_id, ocr_error, ocr_attempts, ocr_completed_at "
                    "FROM extraction_queue WHERE id = %s", (job_id,))
        found = cur.fetchone()
        assert found is not None
        return found


@dataclass
class Console:
    url: str
    process: subprocess.Popen[str]


@contextmanager
def console(dsn: str, tmp: Path, *args: str,
            env: dict[str, str] | None = None) -> Iterator[Console]:
    """`ocrmp web` on a free loopback port until the block ends."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "ocrmp", "web", "--port", str(port), *args],
        env=cli_environment(dsn, tmp, env), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        text=True)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(url, process)
        yield Console(url, process)
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_until_up(url: str, process: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            said = process.stderr.read() if process.stderr else ""
            raise AssertionError(f"ocrmp web exited: {said}")
        try:
            urllib.request.urlopen(f"{url}/login", timeout=2).close()
            return
        except (urllib.error.URLError, ConnectionError):
            time.sleep(0.1)
    raise AssertionError("ocrmp web did not answer within 60 s")


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes


def request(url: str, *, data: dict[str, str] | None = None,
            headers: dict[str, str] | None = None, timeout: float = 30) -> Answer:
    """One HTTP request (a POST of a form when `data`); any status comes back as it is."""
    body = urllib.parse.urlencode(data).encode() if data is not None else None
    req = urllib.request.Request(url, data=body, headers=headers or {})
    opener = urllib.request.build_opener(_NoRedirect)
    try:
        with opener.open(req, timeout=timeout) as answer:
            return Answer(answer.status, dict(answer.headers), answer.read())
    except urllib.error.HTTPError as error:
        return Answer(error.code, dict(error.headers), error.read())


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None
