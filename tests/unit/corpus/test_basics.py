"""The synthetic corpus: deterministic pages whose truth is what was drawn."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
import pytest

from ocrmp import corpus
from ocrmp.corpus import GeneratedPage, acte_page, cer, index_page, levenshtein

DPI = 100  # small pages keep the suite fast; the layout scales with dpi


def _ink_rows(img: np.ndarray) -> np.ndarray:
    return np.flatnonzero((img < 128).any(axis=1))


@pytest.mark.parametrize("make", [acte_page, index_page])
def test_same_seed_same_page(make: Callable[..., GeneratedPage]) -> None:
    a, b = make(5, degrade=True, dpi=DPI), make(5, degrade=True, dpi=DPI)
    assert np.array_equal(a.image, b.image)
    assert (a.text, a.rows, a.skew_deg) == (b.text, b.rows, b.skew_deg)


@pytest.mark.parametrize("make", [acte_page, index_page])
def test_different_seeds_different_pages(make: Callable[..., GeneratedPage]) -> None:
    assert make(1, dpi=DPI).text != make(2, dpi=DPI).text


def test_page_is_letter_size_grayscale() -> None:
    page = acte_page(0, dpi=300)
    assert page.image.shape == (3300, 2550)
    assert page.image.dtype == np.uint8


def test_acte_has_title_and_requested_lines() -> None:
    page = acte_page(3, dpi=DPI, lines=12)
    lines = page.text.split("\n")
    assert lines[0].startswith("ACTE ")
    assert len(lines) == 1 + 12
    assert page.kind == "acte" and page.rows == [] and page.skew_deg == 0.0


def test_acte_is_french_registry_language() -> None:
    text = acte_page(4, dpi=DPI).text
    assert "cadastre du Québec" in text and "notaire à" in text
    assert set("éèàçô") <= set(text)


def test_acte_too_many_lines_is_refused() -> None:
    with pytest.raises(ValueError, match="lines"):
        acte_page(0, dpi=DPI, lines=500)


def test_index_rows_header_and_truth_agree() -> None:
    page = index_page(9, dpi=DPI, rows=7)
    lines = page.text.split("\n")
    assert lines[2] == "Date | Nature de l'acte | Parties | Numéro | Remarques"
    assert len(page.rows) == 7 and len(lines) == 3 + 7
    first = page.rows[0]
    assert list(first) == ["date", "nature", "parties", "numero", "remarques"]
    assert lines[3].startswith(f"{first['date']} | {first['nature']} | {first['parties']}")
    assert all(len(row["numero"].replace(" ", "")) == 7 for row in page.rows)


def test_index_cells_fit_their_columns() -> None:
    # Long party lists are cut to what fits; the truth holds the cut text.
    page = index_page(11, dpi=300, rows=30)
    table = corpus.index_table(300)
    width = table.cols_x[3] - table.cols_x[2]
    font = corpus.font(corpus.font_px(10, 300))
    assert all(font.getlength(row["parties"]) < width for row in page.rows)


def test_index_has_ruling_lines_across_the_table() -> None:
    page = index_page(2, dpi=DPI, rows=5)
    dark_fraction = (page.image < 128).mean(axis=1)
    assert (dark_fraction > 0.5).sum() >= 5 + 2  # one line per row, header and frame


def test_degraded_page_differs_and_records_skew() -> None:
    clean, old = acte_page(6, dpi=DPI), acte_page(6, degrade=True, dpi=DPI)
    assert clean.text == old.text
    assert not np.array_equal(clean.image, old.image)
    assert old.skew_deg != 0.0 and abs(old.skew_deg) <= 3.0


def test_degraded_page_has_dark_borders_and_stays_legible() -> None:
    page = index_page(8, degrade=True, dpi=DPI)
    img = page.image
    edges = np.concatenate([img[0], img[-1], img[:, 0], img[:, -1]])
    assert (edges < 80).mean() > 0.3  # scanner lid on at least two sides
    centre = img[img.shape[0] // 3 : 2 * img.shape[0] // 3, img.shape[1] // 4 : -img.shape[1] // 4]
    assert np.percentile(centre, 90) > 150  # paper still light, so ink still reads


def test_make_document_seeds_each_page() -> None:
    pages, truth = corpus.make_document("acte", 2, 3, dpi=DPI)
    assert len(pages) == 3 and len({p.text for p in pages}) == 3
    assert truth == "\n\n".join(p.text for p in pages)
    with pytest.raises(ValueError, match="kind"):
        corpus.make_document("plan", 2, 1)


@pytest.mark.parametrize("quality", [None, 50])
def test_pdf_has_one_image_per_page(tmp_path: Path, quality: int | None) -> None:
    images = [acte_page(s, dpi=DPI).image for s in range(3)]
    path = tmp_path / "doc.pdf"
    corpus.write_pdf(images, path, dpi=DPI, jpeg_quality=quality)
    pdf = pdfium.PdfDocument(path)
    try:
        assert len(pdf) == 3
        for page, img in zip(pdf, images, strict=True):
            objects = list(page.get_objects())
            assert [o.type for o in objects] == [pdfium_c.FPDF_PAGEOBJ_IMAGE]
            assert objects[0].get_px_size() == (img.shape[1], img.shape[0])
            assert page.get_size() == pytest.approx((8.5 * 72, 11 * 72), abs=1)
    finally:
        pdf.close()


def test_lossless_pdf_keeps_the_pixels(tmp_path: Path) -> None:
    img = index_page(1, dpi=DPI).image
    path = tmp_path / "one.pdf"
    corpus.write_pdf([img], path, dpi=DPI)
    pdf = pdfium.PdfDocument(path)
    try:
        extracted = next(iter(pdf[0].get_objects())).get_bitmap().to_numpy()
    finally:
        pdf.close()
    assert np.array_equal(extracted[..., 0], img)


def test_cli_writes_pdfs_and_truth(tmp_path: Path) -> None:
    corpus.main([str(tmp_path), "--acte", "1", "--index", "2", "--pages", "2"])
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == [
        "acte_0000.pdf", "acte_0000.truth.txt",
        "index_0000.pdf", "index_0000.rows.json", "index_0000.truth.txt",
        "index_0001.pdf", "index_0001.rows.json", "index_0001.truth.txt",
    ]  # fmt: skip
    rows = json.loads((tmp_path / "index_0001.rows.json").read_text(encoding="utf-8"))
    assert len(rows) == 2 and rows[0][0]["date"][:2] in {"19", "20"}


@pytest.mark.parametrize(
    ("a", "b", "distance"),
    [("", "", 0), ("abc", "", 3), ("", "ab", 2), ("kitten", "sitting", 3),
     ("Québec", "Quebec", 1), ("flaw", "lawn", 2), ("abc", "abc", 0)],
)  # fmt: skip
def test_levenshtein_known_answers(a: str, b: str, distance: int) -> None:
    assert levenshtein(a, b) == distance == levenshtein(b, a)


def test_cer_collapses_whitespace() -> None:
    assert cer("Lot  2 145\n678", " Lot 2 145 678 ") == 0.0
    assert cer("abcd", "abce") == 0.25
    assert cer("", "") == 0.0 and cer("", "x") == 1.0
