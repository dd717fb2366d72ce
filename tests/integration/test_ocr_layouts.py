"""Generated pages in the layouts a file holds besides deeds and plain ledgers, read with
the real tesseract: columns read one after the other, short lines kept, a tilted ledger
read as rows. Clean pages at 200 dpi keep each reading to a few seconds."""

from __future__ import annotations

from pathlib import Path

import pytest

from ocrmp.corpus import GeneratedPage, acte_page, cer, ledger_page, write_pdf
from ocrmp.corpus.truth import collapse
from ocrmp.ocr.pipeline import Pipeline
from ocrmp.ocr.records import as_printed
from ocrmp.ocr.result import PageResult
from ocrmp.ocr.settings import OcrSettings
from ocrmp.vocabulary import PageFlag

DPI = 200


@pytest.fixture(scope="module")
def pipeline() -> Pipeline:
    return Pipeline(OcrSettings())


def read(pipeline: Pipeline, page: GeneratedPage, tmp_path: Path) -> PageResult:
    path = tmp_path / "page.pdf"
    write_pdf([page], path, dpi=page.dpi)
    return pipeline.process(path, page.kind, source="page.pdf").page_results[0]


def closest(line: str, read_lines: list[str]) -> float:
    """The CER of `line` against the read line nearest to it."""
    return min((cer(line, other) for other in read_lines), default=1.0)


@pytest.mark.parametrize("count", [2, 3])
def test_columns_are_read_one_after_the_other(pipeline: Pipeline, tmp_path: Path,
                                              count: int) -> None:
    page = acte_page(71, layout=f"columns-{count}", dpi=DPI, face="times")
    result = read(pipeline, page, tmp_path)
    widest = max(len(collapse(line)) for line in page.text.split("\n")[1:])
    # A line joined across a gutter is about twice as long as any line of a column.
    assert max(len(collapse(line)) for line in result.text.split("\n")) <= 1.25 * widest
    # And read in the truth's order, left column whole before the next.
    assert cer(page.text, result.text) <= 0.05


@pytest.mark.parametrize("layout", ["letter", "verse"])
def test_the_short_lines_of_a_letter_and_a_stanza_are_kept(pipeline: Pipeline,
                                                           tmp_path: Path, layout: str) -> None:
    page = acte_page(72, layout=layout, dpi=DPI, face="courier")
    result = read(pipeline, page, tmp_path)
    short = [line for line in page.text.split("\n") if len(line) < 40]
    read_lines = [line for line in result.text.split("\n") if line.strip()]
    assert len(short) >= 8
    assert [line for line in short if closest(line, read_lines) > 0.2] == []


@pytest.mark.parametrize("skew", [-2.0, 1.5])
def test_a_tilted_ledger_is_read_as_its_rows(pipeline: Pipeline, tmp_path: Path,
                                             skew: float) -> None:
    page = ledger_page(73, format="inscription", rows=6, dpi=300, skew_deg=skew)
    result = read(pipeline, page, tmp_path)
    rows = result.rows or []
    assert len(rows) == len(page.rows)
    assert PageFlag.TABLE_UNREAD not in result.flags
    dates = [as_printed(row).get("date") for row in rows]
    assert dates == [row["date"] for row in page.rows]
