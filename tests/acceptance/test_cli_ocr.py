"""`ocrmp ocr` run for real, as a subprocess: output, messages and exit codes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ocrmp.corpus import acte_page, index_page, write_pdf
from ocrmp.exitcodes import ExitCode
from ocrmp.ocr.errors import ImageTooLarge, PageTooComplex, RenderTimeout
from ocrmp.ocr.records import as_printed
from tests.hostile import HOSTILE
from tests.unit.ocr.test_pages import CORRUPT_PDF, encrypted_pdf


def ocrmp(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "ocrmp", *args], capture_output=True,
                          text=True, timeout=120, env={**os.environ, **(env or {})},
                          check=False)


@pytest.fixture(scope="module")
def documents(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("docs")
    write_pdf([acte_page(31, lines=3).image, acte_page(32, lines=2).image],
              folder / "acte.pdf")
    write_pdf([index_page(33, rows=3).image], folder / "index.pdf")
    (folder / "corrupt.pdf").write_bytes(CORRUPT_PDF)
    (folder / "encrypted.pdf").write_bytes(encrypted_pdf())
    (folder / "empty.pdf").write_bytes(b"")
    (folder / "notes.docx").write_bytes(b"PK\x03\x04 a word file")
    (folder / "fake.pdf").write_bytes(b"<html>404</html>")
    return folder


def test_prints_the_text_of_every_page(documents: Path) -> None:
    done = ocrmp("ocr", str(documents / "acte.pdf"))
    assert done.returncode == 0, done.stderr
    pages = done.stdout.split("\n\f\n")
    assert len(pages) == 2 and pages[0].startswith("ACTE ")
    assert done.stderr == ""


def test_json_for_an_index(documents: Path) -> None:
    done = ocrmp("ocr", str(documents / "index.pdf"), "--kind", "index", "--json",
                 "--engine", "cli")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["engine"] == "cli" and result["kind"] == "index" and result["pages"] == 1
    truth = index_page(33, rows=3).rows
    rows = [as_printed(row) for row in result["page_results"][0]["rows"]]
    assert [r["date"] for r in rows] == [t["date"] for t in truth]
    assert [r["numero"] for r in rows] == [t["numero"] for t in truth]
    assert [r["nature"] for r in rows] == [t["nature"] for t in truth]


@pytest.mark.parametrize(("name", "message"), [
    ("missing.pdf", "missing.pdf: was not found"),
    ("corrupt.pdf", "corrupt.pdf: is damaged and cannot be read"),
    ("encrypted.pdf", "encrypted.pdf: is password-protected; upload a copy saved without"),
    ("empty.pdf", "empty.pdf: is empty (zero bytes or zero pages)"),
    ("notes.docx", "notes.docx: is neither a PDF nor a PNG, JPEG or TIFF image"),
    ("fake.pdf", "fake.pdf: is named as a PDF but is not one"),
])
def test_bad_input_is_one_line_and_exit_code_input(documents: Path, name: str,
                                                   message: str) -> None:
    done = ocrmp("ocr", str(documents / name))
    assert done.returncode == ExitCode.INPUT
    assert done.stdout == ""
    assert done.stderr.startswith(f"ocrmp: error: {documents / name}: ")
    assert message in done.stderr and "Traceback" not in done.stderr
    assert done.stderr.count("\n") == 1


def test_missing_language_data_is_an_engine_error(documents: Path) -> None:
    done = ocrmp("ocr", str(documents / "acte.pdf"), "--lang", "klingon")
    assert done.returncode == ExitCode.ENGINE
    assert "ocrmp: error: The OCR engine cannot start" in done.stderr
    assert "klingon.traineddata" in done.stderr


def test_bad_setting_is_a_config_error(documents: Path) -> None:
    done = ocrmp("ocr", str(documents / "acte.pdf"), env={"OCRMP_DPI": "lots"})
    assert done.returncode == ExitCode.CONFIG
    assert "OCRMP_DPI='lots' is invalid" in done.stderr


def test_a_fifo_is_refused_at_once(tmp_path: Path) -> None:
    fifo = tmp_path / "scan.pdf"
    os.mkfifo(fifo)  # no writer: opening it for reading would wait for one
    done = ocrmp("ocr", str(fifo))
    assert done.returncode == ExitCode.INPUT
    assert done.stderr == f"ocrmp: error: {fifo}: is not a regular file (a FIFO, device or " \
        "socket); refused, put the document itself there. (a FIFO)\n"


# The strokes draw for minutes: the page timeout stops them. The bomb's two million
# strokes parse into more than the renderer's memory: given time, its cap stops it.
@pytest.mark.parametrize(("name", "timeout", "kind", "where"), [
    ("stroke-page.pdf", 2, RenderTimeout, " page 1"),
    ("stroke-pages.pdf", 2, RenderTimeout, " page 1"),
    ("stroke-bomb.pdf", 60, PageTooComplex, ""),
    ("hidden-giants.pdf", 60, ImageTooLarge, ""),
])
def test_a_hostile_file_ends_in_one_line_of_its_kind_and_exit_code_input(
        tmp_path: Path, name: str, timeout: int, kind: type[Exception], where: str) -> None:
    path = tmp_path / name
    path.write_bytes(HOSTILE[name]())
    done = ocrmp("ocr", str(path), env={"OCRMP_PAGE_TIMEOUT": str(timeout)})
    assert done.returncode == ExitCode.INPUT, done.stderr
    (line,) = done.stderr.splitlines()
    # The kind's own words, before the detail in parentheses.
    assert line.startswith(f"ocrmp: error: {kind(f'{path}{where}')} (")
