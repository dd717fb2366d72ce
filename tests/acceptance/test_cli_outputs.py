"""`ocrmp ocr --format ... -o ...` run for real: the file written, or one line and an exit
code when the input cannot give that format."""

from __future__ import annotations

import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

from ocrmp.corpus import acte_page, write_image, write_pdf
from ocrmp.exitcodes import ExitCode


def ocrmp(*args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([sys.executable, "-m", "ocrmp", *args], capture_output=True,
                          timeout=120, env=dict(os.environ), check=False)


def test_each_format_is_written_to_the_named_file(tmp_path: Path) -> None:
    write_pdf([acte_page(81, lines=3)], tmp_path / "deed.pdf")
    for fmt, check in (("alto", ET.fromstring), ("hocr", ET.fromstring)):
        done = ocrmp("ocr", str(tmp_path / "deed.pdf"), "--format", fmt,
                     "-o", str(tmp_path / f"out.{fmt}"))
        assert done.returncode == 0, done.stderr
        assert done.stdout == b""
        check((tmp_path / f"out.{fmt}").read_bytes())
    done = ocrmp("ocr", str(tmp_path / "deed.pdf"), "--format", "pdf")
    assert done.returncode == 0 and done.stdout.startswith(b"%PDF-")
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no partial file


def test_a_searchable_pdf_of_an_image_is_refused_before_it_is_read(tmp_path: Path) -> None:
    write_image(acte_page(82, lines=2), tmp_path / "deed.png")
    done = ocrmp("ocr", str(tmp_path / "deed.png"), "--format", "pdf",
                 "-o", str(tmp_path / "out.pdf"))
    assert done.returncode == ExitCode.INPUT
    assert done.stderr.decode().count("\n") == 1 and b"deed.png" in done.stderr
    assert not (tmp_path / "out.pdf").exists()


def test_an_output_that_cannot_be_written_fails_with_one_line(tmp_path: Path) -> None:
    write_pdf([acte_page(83, lines=2)], tmp_path / "deed.pdf")
    done = ocrmp("ocr", str(tmp_path / "deed.pdf"), "--format", "alto",
                 "-o", str(tmp_path / "missing" / "out.xml"))
    assert done.returncode == ExitCode.FAILURE
    assert done.stderr.decode().count("\n") == 1 and b"out.xml" in done.stderr
