"""Pages that read badly are flagged, with the real tesseract; pages that read well are not."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from ocrmp.corpus import acte_page, ledger_page, write_pdf
from ocrmp.ocr.engines import Engine, Recognition, load_engine, recognition_from_words
from ocrmp.ocr.pipeline import Pipeline
from ocrmp.ocr.result import PageResult
from ocrmp.ocr.settings import OcrSettings
from ocrmp.vocabulary import PageFlag


@pytest.fixture(scope="module")
def pipeline() -> Pipeline:
    return Pipeline(OcrSettings())


def read(pipeline: Pipeline, image: np.ndarray, tmp_path: Path, kind: str,
         dpi: int = 300) -> PageResult:
    path = tmp_path / "doc.pdf"
    write_pdf([image], path, dpi=dpi)
    return pipeline.process(path, kind, source="doc.pdf").page_results[0]


def test_a_typed_page_that_reads_well_has_no_flag(pipeline: Pipeline, tmp_path: Path) -> None:
    result = read(pipeline, acte_page(41, degrade=True).image, tmp_path, "acte")
    assert result.flags == []


def test_a_handwritten_register_is_flagged_as_handwriting(pipeline: Pipeline,
                                                          tmp_path: Path) -> None:
    result = read(pipeline, ledger_page(42, format="manuscrit").image, tmp_path, "index")
    assert PageFlag.HANDWRITING in result.flags and PageFlag.LOW_CONFIDENCE in result.flags


def test_noise_is_left_out_and_the_page_flagged(pipeline: Pipeline, tmp_path: Path) -> None:
    # A photograph's grain, thresholded: blobs that tesseract takes for letters.
    grain = cv2.GaussianBlur(np.random.default_rng(43).random((1100, 850)).astype(np.float32),
                             (0, 0), 1.5)
    image = np.where(grain > np.percentile(grain, 80), 40, 235).astype(np.uint8)
    result = read(pipeline, image, tmp_path, "acte", dpi=100)
    assert {PageFlag.LOW_CONFIDENCE, PageFlag.NON_WORDS} & set(result.flags), \
        "a page of noise passed off as good text"
    # Most of it left out (or none of it read at all, the page turned while in doubt).
    assert result.rejected_words >= len(result.text.split())


def test_flags_reach_the_document_summary(pipeline: Pipeline, tmp_path: Path) -> None:
    path = tmp_path / "two.pdf"
    write_pdf([ledger_page(44, format="inscription").image,
               ledger_page(45, format="manuscrit").image], path)
    data = pipeline.process(path, "index", source="two.pdf").to_json()
    assert data["flagged_pages"] == [2]
    assert data["flags"]["handwriting"] == 1  # type: ignore[index]


class LosingLines:
    """The real engine, but a layout that loses the lower half of every page it reads
    whole and reads nothing in a small crop: text left out, as a column the table reader
    misses is."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def __getattr__(self, name: str) -> object:
        return getattr(self.engine, name)

    def recognize(self, image: np.ndarray, *, psm: int = 6,
                  dpi: float | None = None) -> Recognition:
        if image.shape[0] < 0.5 * image.shape[1]:
            return Recognition("")  # a line read again: nothing
        read = self.engine.recognize(image, psm=psm, dpi=dpi)
        return recognition_from_words([w for w in read.words if w.top < image.shape[0] / 2])


def test_text_the_reading_left_out_is_flagged(tmp_path: Path) -> None:
    losing = Pipeline(OcrSettings(), engine=LosingLines(load_engine(OcrSettings())))  # type: ignore[arg-type]
    result = read(losing, acte_page(44).image, tmp_path, "acte")
    assert result.text  # the upper half, read well
    assert PageFlag.TEXT_UNREAD in result.flags
