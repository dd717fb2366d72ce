"""Writers, benchmark corpora and the font packages the Makefile installs."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pypdfium2 as pdfium
import pytest
from PIL import Image

from ocrmp import corpus
from ocrmp.corpus import (
    acte_page,
    benchmark_corpus,
    ledger_page,
    random_options,
    random_page,
    write_image,
)
from ocrmp.corpus.fonts import apt_packages

DPI = 100


def _first_image(pdf: pdfium.PdfDocument, index: int = 0) -> pdfium.PdfImage:
    return next(iter(pdf[index].get_objects()))


def test_colour_pdf_keeps_the_pixels_losslessly(tmp_path: Path) -> None:
    page = acte_page(1, dpi=DPI, lines=4, colour=True, paper="yellowed")
    path = tmp_path / "colour.pdf"
    corpus.write_pdf([page], path)
    pdf = pdfium.PdfDocument(path)
    try:
        bgr = _first_image(pdf).get_bitmap().to_numpy()
        assert pdf[0].get_size() == pytest.approx((8.5 * 72, 11 * 72), abs=1)
    finally:
        pdf.close()
    assert np.array_equal(bgr[..., 2::-1][..., :3], page.image)


def test_colour_pdf_as_jpeg(tmp_path: Path) -> None:
    page = acte_page(1, dpi=DPI, lines=4, colour=True, ink="blue")
    path = tmp_path / "jpeg.pdf"
    corpus.write_pdf([page], path, jpeg_quality=60)
    pdf = pdfium.PdfDocument(path)
    try:
        image = _first_image(pdf)
        assert image.get_filters() == ["DCTDecode"]
        decoded = image.get_bitmap().to_numpy()[..., 2::-1][..., :3].astype(int)
    finally:
        pdf.close()
    assert np.abs(decoded - page.image).mean() < 4


def test_pdf_can_declare_a_resolution_other_than_the_pixels(tmp_path: Path) -> None:
    # A 300-dpi scan placed as if it were 72 dpi: the page is 35 by 46 inches.
    page = acte_page(2, lines=2)
    path = tmp_path / "placed.pdf"
    corpus.write_pdf([page, page], path, placement_dpi=[72, 300], rotate=[0, 270])
    pdf = pdfium.PdfDocument(path)
    try:
        assert pdf[0].get_size() == pytest.approx((2550, 3300), abs=1)
        assert pdf[1].get_size() == pytest.approx((792, 612), abs=1)  # shown turned
        assert (pdf[0].get_rotation(), pdf[1].get_rotation()) == (0, 270)
        assert _first_image(pdf).get_px_size() == (2550, 3300)
    finally:
        pdf.close()


def test_pdf_page_size_follows_each_page_dpi(tmp_path: Path) -> None:
    pages = [acte_page(3, dpi=150, lines=2), ledger_page(3, dpi=200, rows=2)]
    path = tmp_path / "mixed.pdf"
    corpus.write_pdf(pages, path)
    pdf = pdfium.PdfDocument(path)
    try:
        assert [pdf[i].get_size() for i in range(2)] == [pytest.approx((612, 792), abs=1)] * 2
    finally:
        pdf.close()
    with pytest.raises(ValueError, match="rotate"):
        corpus.write_pdf(pages, path, rotate=[0])


@pytest.mark.parametrize("suffix", [".png", ".jpg", ".tif"])
def test_image_metadata_says_the_dpi_asked_or_none(tmp_path: Path, suffix: str) -> None:
    page = acte_page(4, dpi=300, lines=2)
    wrong, missing = tmp_path / f"wrong{suffix}", tmp_path / f"none{suffix}"
    write_image(page, wrong, dpi=72)
    write_image(page, missing, dpi=None)
    with Image.open(wrong) as image:
        assert tuple(round(float(v)) for v in image.info["dpi"]) == (72, 72)
    with Image.open(missing) as image:
        assert tuple(round(float(v)) for v in image.info.get("dpi", (1, 1))) in {(1, 1), (0, 0)}
        assert image.size == (2550, 3300)


@pytest.mark.parametrize("condition", ["clean", "rotated", "low-dpi", "fax", "colour",
                                       "light-ink", "marks", "degraded"])
def test_benchmark_corpus_pages_show_their_condition(condition: str) -> None:
    pages = benchmark_corpus(2, "acte", seed=3, condition=condition)
    assert len(pages) == 2 and pages[0].text != pages[1].text
    check = {
        "clean": lambda p: p.dpi == 300 and p.orientation_deg == 0 and p.image.ndim == 2,
        "rotated": lambda p: p.orientation_deg in (90, 180, 270),
        "low-dpi": lambda p: p.dpi <= 200 and p.image.shape[0] == 11 * p.dpi,
        "fax": lambda p: set(np.unique(p.image)) <= {0, 255},
        "colour": lambda p: p.image.ndim == 3,
        "light-ink": lambda p: p.options["ink"] in ("faded", "violet", "blue"),
        "marks": lambda p: len(p.marks) >= 2,
        "degraded": lambda p: p.skew_deg != 0,
    }[condition]
    assert all(check(p) for p in pages)


def test_benchmark_ledgers_cover_the_typed_formats_in_turn() -> None:
    pages = benchmark_corpus(5, "index", condition="low-dpi")
    assert [p.format for p in pages] == ["simple", "formulaire", "english", "inscription",
                                         "radiation"]
    assert {p.format for p in benchmark_corpus(2, "index", format="manuscrit")} == {"manuscrit"}
    with pytest.raises(ValueError, match="condition"):
        benchmark_corpus(1, "acte", condition="underwater")


def test_random_pages_repeat_from_their_seed_and_their_options() -> None:
    first, again = random_page(17, "index", dpi=120), random_page(17, "index", dpi=120)
    assert np.array_equal(first.image, again.image) and first.rows == again.rows
    by_hand = ledger_page(17, **first.options)
    assert np.array_equal(by_hand.image, first.image)


def test_random_options_mix_every_condition() -> None:
    ledgers = [random_options(seed, "index") for seed in range(40)]
    assert len({o["format"] for o in ledgers}) == len(corpus.FORMATS)
    assert {o["rules"] for o in ledgers} == set(corpus.RULES)
    assert all(200 <= o["dpi"] <= 400 for o in ledgers)
    actes = [random_options(seed, "acte") for seed in range(40)]
    assert {o["orientation_deg"] for o in actes} == {0, 90, 180, 270}
    assert len({o["face"] for o in actes}) >= 6 and {True, False} <= {o["fax"] for o in actes}
    assert min(o["dpi"] for o in actes) == 100


def test_cli_writes_the_whole_truth_on_request(tmp_path: Path) -> None:
    corpus.main([str(tmp_path), "--index", "1", "--format", "inscription", "--json",
                 "--condition", "colour"])
    truth = json.loads((tmp_path / "index_0000.pages.json").read_text(encoding="utf-8"))
    assert truth[0]["format"] == "inscription" and truth[0]["shape"][2] == 3
    assert truth[0]["rows"][0]["parties"][0]["role"]


def test_makefile_installs_every_font_package() -> None:
    makefile = (Path(__file__).parents[3] / "Makefile").read_text(encoding="utf-8")
    declared = re.search(r"FONT_PACKAGES := ((?:.*\\\n)*.*)", makefile)
    assert declared is not None
    assert sorted(declared.group(1).replace("\\", " ").split()) == apt_packages()


def test_layout_pages_keep_their_layout_and_draw_the_rest_from_the_seed() -> None:
    deeds = [corpus.layout_page(seed, "columns-2") for seed in range(6)]
    assert {p.options["layout"] for p in deeds} == {"columns-2"}
    assert len({(p.options["face"], p.dpi) for p in deeds}) > 1
    tilted = [corpus.layout_page(seed, "tilted") for seed in range(6)]
    assert all(1.0 <= abs(p.skew_deg) <= 3.0 for p in tilted)
    assert len({p.format for p in tilted}) > 1
    forms = [corpus.layout_page(seed, "formulaire-ancien") for seed in range(8)]
    assert not any(p.handwritten for p in forms)
    with pytest.raises(ValueError, match="layout"):
        corpus.layout_page(0, "manuscrit")
