"""Both engines on the real tesseract with `fra`, and tesseract's failures as named errors."""

from __future__ import annotations

import dataclasses
import os
import stat
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from ocrmp.corpus import font_path
from ocrmp.ocr.engines import CliEngine, Engine, TesserocrEngine, load_engine
from ocrmp.ocr.errors import EngineCrashed, EngineTimeout, EngineUnavailable
from ocrmp.ocr.settings import OcrSettings

SETTINGS = OcrSettings()
LINES = ["Acte de vente publié à Québec", "le 12 mai 1987 sous le numéro 1 234 567."]


def text_image(lines: list[str] = LINES) -> np.ndarray:
    font = ImageFont.truetype(str(font_path()), 42)
    canvas = Image.new("L", (1300, 80 + 70 * len(lines)), 255)
    draw = ImageDraw.Draw(canvas)
    for i, line in enumerate(lines):
        draw.text((40, 40 + 70 * i), line, font=font, fill=0)
    return np.asarray(canvas).copy()


@pytest.fixture(scope="module", params=["tesserocr", "cli"])
def engine(request: pytest.FixtureRequest) -> Engine:
    return load_engine(dataclasses.replace(SETTINGS, engine=request.param))


def test_reads_french_text_with_word_boxes_and_confidence(engine: Engine) -> None:
    result = engine.recognize(text_image())
    assert result.text == "\n".join(LINES)
    assert 80 < result.mean_confidence <= 100
    first = result.words[0]
    assert first.text == "Acte" and 30 < first.left < 50 and first.height > 20
    assert {w.key for w in result.words} == {(1, 1, 1), (1, 1, 2)}


def test_engines_agree(engine: Engine) -> None:
    other = load_engine(dataclasses.replace(SETTINGS, engine="cli"))
    image = text_image(["Hypothèque radiée le 3 juin 1954."])
    assert engine.recognize(image, psm=7).text == other.recognize(image, psm=7).text


def test_blank_image_gives_no_words(engine: Engine) -> None:
    result = engine.recognize(np.full((200, 300), 255, np.uint8))
    assert result.text == "" and result.words == [] and result.mean_confidence == 0.0


def test_auto_prefers_tesserocr() -> None:
    assert load_engine(SETTINGS).name == "tesserocr"


def test_missing_language_data_is_a_startup_error() -> None:
    for kind in ("tesserocr", "cli"):
        with pytest.raises(EngineUnavailable, match="no klingon.traineddata"):
            load_engine(OcrSettings(engine=kind, lang="klingon"))


def test_missing_binary_is_a_startup_error() -> None:
    with pytest.raises(EngineUnavailable, match="cannot run /nonexistent/tesseract"):
        CliEngine(SETTINGS, binary="/nonexistent/tesseract")


def fake_tesseract(tmp_path: Path, body: str) -> str:
    """A stand-in binary: lists fra like the real one, then does `body` when asked to OCR."""
    script = tmp_path / "tesseract"
    script.write_text("#!/bin/sh\n"
                      'case "$*" in *--list-langs*) printf "List of\\nfra\\n"; exit 0;; esac\n'
                      + body + "\n")
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return str(script)


def test_cli_crash_and_failure_are_named(tmp_path: Path) -> None:
    crashing = CliEngine(SETTINGS, binary=fake_tesseract(tmp_path, "kill -SEGV $$"))
    with pytest.raises(EngineCrashed, match="killed by signal 11"):
        crashing.recognize(text_image())
    (tmp_path / "b").mkdir()
    failing = CliEngine(SETTINGS, binary=fake_tesseract(
        tmp_path / "b", 'echo "Error in pixReadStream" >&2; exit 1'))
    with pytest.raises(EngineCrashed, match="exit 1: Error in pixReadStream"):
        failing.recognize(text_image())


def test_cli_timeout(tmp_path: Path) -> None:
    slow = CliEngine(dataclasses.replace(SETTINGS, page_timeout_s=0.2),
                     binary=fake_tesseract(tmp_path, "exec sleep 5"))
    with pytest.raises(EngineTimeout, match="ran over 0.2 s"):
        slow.recognize(text_image())


def test_tesserocr_timeout() -> None:
    engine = TesserocrEngine(dataclasses.replace(SETTINGS, page_timeout_s=0.001))
    busy = text_image(LINES * 12)
    with pytest.raises(EngineTimeout, match="no result within 1 ms"):
        engine.recognize(busy)


def test_one_thread_for_tesseract() -> None:
    assert os.environ["OMP_THREAD_LIMIT"] == "1"
