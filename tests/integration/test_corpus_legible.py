"""The generator draws text, not garbage: tesseract reads its clean pages.

Loose bounds on purpose (the reader's quality is measured in bench/): a face drawn with
the wrong glyphs, text drawn off its cell or a broken layout shows up as a far higher
error. Pages are small (a few lines or rows) so each reading takes about a second.
"""

from __future__ import annotations

import io
import os
import subprocess
from collections import Counter

import numpy as np
import pytest
from PIL import Image

from ocrmp.corpus import FACES, FORMATS, acte_page, cer, ledger_page

TYPED = sorted(name for name, fmt in FORMATS.items() if not fmt.handwritten)


def tesseract(img: np.ndarray, psm: int) -> str:
    """The tesseract CLI on one page, French, one thread."""
    png = io.BytesIO()
    Image.fromarray(img).save(png, "PNG", dpi=(300, 300))
    done = subprocess.run(["tesseract", "stdin", "stdout", "-l", "fra", "--psm", str(psm)],
                          input=png.getvalue(), capture_output=True, check=True, timeout=60,
                          env={**os.environ, "OMP_THREAD_LIMIT": "1"})
    return done.stdout.decode("utf-8")


def word_recall(truth: str, read: str) -> float:
    """Share of the truth's words that were read, in any order (tables read row or column)."""
    wanted = Counter(truth.replace("|", " ").split())
    found = Counter(read.replace("|", " ").split())
    return sum((wanted & found).values()) / sum(wanted.values())


@pytest.mark.parametrize("face", sorted(FACES))
def test_clean_deed_in_every_face_reads_back(face: str) -> None:
    page = acte_page(1, face=face, lines=6)
    assert cer(page.text, tesseract(page.image, 6)) <= 0.05


@pytest.mark.parametrize("name", TYPED)
def test_clean_ledger_of_every_typed_format_reads_back(name: str) -> None:
    page = ledger_page(2, format=name, rows=6)
    assert word_recall(page.text, tesseract(page.image, 4)) >= 0.9
