"""Where the words lie: every page's lines and words put back on the scan as it was stored,
whichever way it was turned and however it was scaled (real tesseract, generated pages)."""

from __future__ import annotations

import statistics
from pathlib import Path

import numpy as np
import pytest

from ocrmp.corpus import acte_page, index_page, write_pdf
from ocrmp.corpus.page import GeneratedPage
from ocrmp.ocr.pipeline import Pipeline
from ocrmp.ocr.result import PageResult
from ocrmp.ocr.settings import OcrSettings

Box = tuple[int, int, int, int]


@pytest.fixture(scope="module")
def pipeline() -> Pipeline:
    return Pipeline(OcrSettings())


def read(pipeline: Pipeline, page: GeneratedPage, path: Path, kind: str = "acte",
         **pdf: object) -> PageResult:
    write_pdf([page], path, **pdf)  # type: ignore[arg-type]
    return pipeline.process(path, kind, source=path.name).page_results[0]


def words(result: PageResult) -> list[list]:
    assert result.layout is not None
    return [w for line in result.layout["lines"] for w in line["words"]]


def turned(box: Box, width: int, height: int, angle: int) -> Box:
    """A box of an upright page of `width` x `height` where it lies once the page is
    turned counter-clockwise by `angle` (as the corpus turns its pages: numpy's rot90)."""
    left, top, right, bottom = box
    for _ in range(angle // 90):
        left, top, right, bottom = top, width - right, bottom, width - left
        width, height = height, width
    return left, top, right, bottom


def overlap(a: Box, b: Box) -> float:
    """Intersection over union."""
    w = min(a[2], b[2]) - max(a[0], b[0])
    h = min(a[3], b[3]) - max(a[1], b[1])
    inter = max(0, w) * max(0, h)
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union else 0.0


def inked(image: np.ndarray, box: Box) -> bool:
    left, top, right, bottom = box
    crop = image[top:bottom, left:right]
    return crop.size > 0 and int(crop.min()) < 128


def test_a_page_turned_90_degrees_has_its_word_boxes_on_the_words_of_the_scan(
        pipeline: Pipeline, tmp_path: Path) -> None:
    upright_page = acte_page(41, lines=14)
    turned_page = acte_page(41, lines=14, orientation_deg=90)
    upright = read(pipeline, upright_page, tmp_path / "upright.pdf")
    sideways = read(pipeline, turned_page, tmp_path / "turned.pdf")
    assert sideways.geometry.rotation_deg == 90
    assert (sideways.width, sideways.height) == (upright.height, upright.width)
    # The same word read from the turned scan lies where the upright word lies, turned.
    expected = {w[5]: turned(tuple(w[:4]), upright.width, upright.height, 90)
                for w in words(upright)}
    found = [overlap(tuple(w[:4]), expected[w[5]]) for w in words(sideways) if w[5] in expected]
    assert len(found) >= 0.9 * len(words(sideways))
    assert statistics.median(found) >= 0.7
    # And every box holds ink of the scan: no word is placed on blank paper.
    scan = turned_page.image if turned_page.image.ndim == 2 else turned_page.image.mean(axis=2)
    assert all(inked(scan, tuple(w[:4])) for w in words(sideways))


def test_a_scaled_page_has_its_boxes_in_the_scan_pixels_not_the_engines(
        pipeline: Pipeline, tmp_path: Path) -> None:
    result = read(pipeline, acte_page(42, dpi=100, lines=10), tmp_path / "low.pdf", dpi=100)
    assert result.geometry.scale > 1.2
    boxes = [w[:4] for w in words(result)]
    assert all(0 <= x0 < x1 <= result.width and 0 <= y0 < y1 <= result.height
               for x0, y0, x1, y1 in boxes)


def test_word_boxes_are_in_reading_order_and_give_the_pages_text(
        pipeline: Pipeline, tmp_path: Path) -> None:
    result = read(pipeline, acte_page(43, lines=12), tmp_path / "deed.pdf")
    assert result.layout is not None
    lines = [" ".join(w[5] for w in line["words"]) for line in result.layout["lines"]]
    assert [line for line in result.text.split("\n") if line] == lines
    assert all(0 <= w[4] <= 100 and isinstance(w[4], int) for w in words(result))


def test_a_ledger_page_gives_each_cell_its_box_and_field(pipeline: Pipeline,
                                                         tmp_path: Path) -> None:
    result = read(pipeline, index_page(44, rows=5), tmp_path / "ledger.pdf", "index")
    assert result.layout is not None and result.rows
    cells = result.layout["cells"]
    assert {cell["row"] for cell in cells} == set(range(len(result.rows)))
    assert {"date", "numero"} <= {cell["field"] for cell in cells}
    for cell in cells:
        x0, y0, x1, y1 = cell["box"]
        assert 0 <= x0 < x1 <= result.width and 0 <= y0 < y1 <= result.height


def test_a_blank_page_has_no_layout(pipeline: Pipeline, tmp_path: Path) -> None:
    blank = np.full((1100, 850), 255, np.uint8)
    write_pdf([blank], tmp_path / "blank.pdf", dpi=100)
    result = pipeline.process(tmp_path / "blank.pdf", "acte", source="blank.pdf")
    assert result.page_results[0].layout is None
    assert "layout" not in result.page_results[0].to_json()
