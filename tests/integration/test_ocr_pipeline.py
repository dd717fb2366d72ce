"""The pipeline end to end on generated pages, with the real tesseract."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from ocrmp.corpus import acte_page, cer, ledger_page, write_pdf
from ocrmp.ocr.errors import CorruptDocument, EncryptedDocument, UnsupportedKind
from ocrmp.ocr.pipeline import PAGE_SEPARATOR, Pipeline
from ocrmp.ocr.records import as_printed
from ocrmp.ocr.settings import OcrSettings
from ocrmp.vocabulary import INDEX_FIELDS
from tests.unit.ocr.test_pages import CORRUPT_PDF, encrypted_pdf


@pytest.fixture(scope="module")
def pipeline() -> Pipeline:
    return Pipeline(OcrSettings())


def pdf_bytes(images: list[np.ndarray], tmp_path: Path) -> bytes:
    path = tmp_path / "doc.pdf"
    write_pdf(images, path)
    return path.read_bytes()


def printed_rate(rows: list[dict[str, Any]], truth: list[dict[str, Any]]) -> float:
    """Share of the printed (row, field) values read exactly, numbers without spaces."""
    right = total = 0
    for i, expected in enumerate(truth):
        got = as_printed(rows[i]) if i < len(rows) else {}
        for key, value in expected.items():
            if key not in INDEX_FIELDS:
                continue
            if key == "parties":
                value = "\n".join(p["name"] for p in value)
            total += 1
            read = str(got.get(key, ""))
            right += (read.replace(" ", "") == value.replace(" ", "") if key == "numero"
                      else " ".join(read.split()) == " ".join(value.split()))
    return right / total


def test_acte_pages_in_order_with_progress(pipeline: Pipeline, tmp_path: Path) -> None:
    pages = [acte_page(11, lines=4), acte_page(12, lines=3)]
    progress: list[int] = []
    result = pipeline.process(pdf_bytes([p.image for p in pages], tmp_path), "acte",
                              source="a.pdf", on_page=progress.append)
    assert progress == [1, 2] and result.pages == 2
    texts = result.text.split(PAGE_SEPARATOR)
    assert len(texts) == 2
    for text, page in zip(texts, pages, strict=True):
        assert cer(page.text, text) < 0.01
    assert "\n\n" in texts[0]  # the title stands apart from the first paragraph
    assert result.mean_confidence > 85
    data = result.to_json()
    assert data["pages"] == 2 and data["low_confidence_pages"] == []
    first = data["page_results"][0]  # type: ignore[index]
    assert first["extracted"] and (first["width"], first["height"]) == (2550, 3300)
    assert first["timings_ms"]["engine"] > 0 and "rows" not in first


def test_index_rows_come_out_right(pipeline: Pipeline, tmp_path: Path) -> None:
    clean = [ledger_page(seed, rows=5) for seed in (21, 22)]
    degraded = [ledger_page(seed, rows=5, degrade=True) for seed in (23, 24)]
    for pages, floor in ((clean, 0.95), (degraded, 0.9)):
        data = pdf_bytes([p.image for p in pages], tmp_path)
        result = pipeline.process(data, "index", source="i.pdf")
        got = [row for page in result.page_results for row in page.rows or []]
        truth = [row for page in pages for row in page.rows]
        assert len(got) == len(truth)
        assert printed_rate(got, truth) >= floor
        assert set(INDEX_FIELDS) <= set(got[0])
        assert "Date | Nature de l'acte | Parties | Numéro | Remarques" in result.text


def test_low_confidence_pages_are_flagged(tmp_path: Path) -> None:
    strict = Pipeline(OcrSettings(low_confidence=99.9))
    result = strict.process(pdf_bytes([acte_page(13, lines=2).image], tmp_path), "acte",
                            source="a.pdf")
    assert result.low_confidence_pages == [1] and result.page_results[0].low_confidence
    data = result.to_json()
    assert data["flagged_pages"] == [1] and data["flags"] == {"low_confidence": 1}
    assert data["page_results"][0]["flags"] == ["low_confidence"]  # type: ignore[index]


def test_bad_documents_leave_the_pipeline_usable(pipeline: Pipeline, tmp_path: Path) -> None:
    for bad, error in ((CORRUPT_PDF, CorruptDocument), (encrypted_pdf(), EncryptedDocument)):
        with pytest.raises(error, match="bad.pdf: "):
            pipeline.process(bad, "acte", source="bad.pdf")
    with pytest.raises(UnsupportedKind, match="plan_cadastraux"):
        pipeline.process(b"%PDF-1.4", "plan_cadastraux", source="p.pdf")
    good = pipeline.process(pdf_bytes([acte_page(14, lines=1).image], tmp_path), "acte",
                            source="ok.pdf")
    assert good.pages == 1 and good.text.strip()


def test_png_input(pipeline: Pipeline) -> None:
    from PIL import Image

    page = acte_page(15, lines=2)
    buffer = io.BytesIO()
    Image.fromarray(page.image).save(buffer, "PNG", dpi=(300, 300))
    result = pipeline.process(buffer.getvalue(), "acte", source="a.png")
    assert cer(page.text, result.text) < 0.01


@pytest.mark.parametrize("kind", ["acte", "index"])
def test_the_ink_of_each_page_is_analysed_once(pipeline: Pipeline, tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch, kind: str) -> None:
    from ocrmp.ocr import ink

    calls: list[tuple[int, ...]] = []
    analyse = ink.analyse

    def counted(flat: np.ndarray) -> ink.Ink:
        calls.append(flat.shape)
        return analyse(flat)

    monkeypatch.setattr(ink, "analyse", counted)
    pages = [acte_page(70, lines=8).image, acte_page(71, orientation_deg=90).image] \
        if kind == "acte" else [ledger_page(72, rows=4).image, ledger_page(73, rows=4).image]
    result = pipeline.process(pdf_bytes(pages, tmp_path), kind, source="doc.pdf")
    assert result.pages == 2 and len(calls) == 2
