"""The outputs users keep, made from real readings of generated deeds: ALTO and hOCR
well-formed with every word boxed on its page, and a searchable PDF whose pages are the
source's own and whose text layer reads back as the page's text."""

from __future__ import annotations

import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pikepdf
import pypdfium2 as pdfium
import pytest

from ocrmp.corpus import acte_page, cer, write_image, write_pdf
from ocrmp.corpus.page import GeneratedPage
from ocrmp.ocr.pipeline import OcrResult, Pipeline
from ocrmp.ocr.settings import OcrSettings
from ocrmp.outputs import render
from ocrmp.outputs.errors import OutputNeedsPdf

ALTO = "{http://www.loc.gov/standards/alto/ns-v4#}"
XHTML = "{http://www.w3.org/1999/xhtml}"


@pytest.fixture(scope="module")
def pipeline() -> Pipeline:
    return Pipeline(OcrSettings())


def read(pipeline: Pipeline, page: GeneratedPage, path: Path,
         **pdf: object) -> tuple[OcrResult, Path]:
    write_pdf([page], path, **pdf)  # type: ignore[arg-type]
    return pipeline.process(path, "acte", source=path.name), path


def inside(box: tuple[int, int, int, int], width: int, height: int) -> bool:
    x0, y0, x1, y1 = box
    return 0 <= x0 < x1 <= width and 0 <= y0 < y1 <= height


def test_alto_is_well_formed_and_its_strings_in_order_make_the_text(
        pipeline: Pipeline, tmp_path: Path) -> None:
    page = acte_page(61, lines=14)
    result, path = read(pipeline, page, tmp_path / "deed.pdf")
    root = ET.fromstring(render("alto", result, source="deed.pdf", document=path))
    alto_page = root.find(f"{ALTO}Layout/{ALTO}Page")
    assert alto_page is not None
    width, height = int(alto_page.get("WIDTH", 0)), int(alto_page.get("HEIGHT", 0))
    lines = []
    for line in root.iter(f"{ALTO}TextLine"):
        strings = line.findall(f"{ALTO}String")
        for s in strings:
            x, y, w, h = (int(s.get(k, -1)) for k in ("HPOS", "VPOS", "WIDTH", "HEIGHT"))
            assert inside((x, y, x + w, y + h), width, height)
            assert 0 <= float(s.get("WC", -1)) <= 1
        lines.append(" ".join(s.get("CONTENT", "") for s in strings))
    assert cer(page.text, "\n".join(lines)) <= 0.02


def test_hocr_is_well_formed_and_its_words_in_order_make_the_text(
        pipeline: Pipeline, tmp_path: Path) -> None:
    page = acte_page(62, lines=14, orientation_deg=270)
    result, path = read(pipeline, page, tmp_path / "deed.pdf")
    root = ET.fromstring(render("hocr", result, source="deed.pdf", document=path))
    hocr_page = next(e for e in root.iter(f"{XHTML}div") if e.get("class") == "ocr_page")
    _, _, width, height = (int(v) for v in hocr_page.get("title", "").split(";")[1].split()[1:])
    assert (width, height) == (result.page_results[0].width, result.page_results[0].height)
    lines = []
    for line in (e for e in root.iter(f"{XHTML}span") if e.get("class") == "ocr_line"):
        assert "textangle 270" in line.get("title", "")
        words = [w for w in line if w.get("class") == "ocrx_word"]
        for word in words:
            bbox, conf = word.get("title", "").split("; ")
            assert inside(tuple(int(v) for v in bbox.split()[1:]), width, height)  # type: ignore[arg-type]
            assert 0 <= int(conf.split()[1]) <= 100
        lines.append(" ".join(w.text or "" for w in words))
    assert cer(page.text, "\n".join(lines)) <= 0.02


def test_a_word_xml_cannot_hold_is_left_out_not_a_broken_file(
        pipeline: Pipeline, tmp_path: Path) -> None:
    result, path = read(pipeline, acte_page(63, lines=3), tmp_path / "deed.pdf")
    layout = result.page_results[0].layout
    assert layout is not None
    layout["lines"][0]["words"][0][5] = "bad\x0c<&>\x01"
    for fmt in ("alto", "hocr"):
        ET.fromstring(render(fmt, result, source="a&b.pdf", document=path))


def pdftotext(path: Path) -> str:
    return subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True,
                          check=True).stdout


def rendered(path: Path) -> list[bytes]:
    """Every page as a viewer draws it (at 50 dpi), pixel for pixel."""
    document = pdfium.PdfDocument(path)
    return [page.render(scale=50 / 72).to_numpy().tobytes() for page in document]


def images(path: Path) -> list[bytes]:
    """The raw (still encoded) bytes of every image the PDF's pages draw."""
    with pikepdf.open(path) as pdf:
        return [bytes(xobject.read_raw_bytes()) for page in pdf.pages
                for xobject in page.obj.Resources.XObject.values()
                if xobject.Subtype == pikepdf.Name.Image]


@pytest.mark.parametrize(("name", "page", "pdf"), [
    ("upright", acte_page(64, lines=14), {}),
    ("degraded", acte_page(65, lines=14, degrade=True), {}),
    ("100 dpi", acte_page(66, lines=14, dpi=100), {"dpi": 100}),
    ("jpeg", acte_page(67, lines=14), {"jpeg_quality": 75}),
    ("shown turned by /Rotate 90", acte_page(68, lines=14), {"rotate": 90}),
    ("shown turned by /Rotate 180", acte_page(73, lines=14), {"rotate": 180}),
    ("scanned upside down", acte_page(69, lines=14, orientation_deg=180), {}),
    ("scanned turned 270", acte_page(70, lines=14, orientation_deg=270), {}),
])
def test_the_searchable_pdf_keeps_its_pages_and_reads_back_as_the_text(
        pipeline: Pipeline, tmp_path: Path, name: str, page: GeneratedPage,
        pdf: dict[str, object]) -> None:
    result, source = read(pipeline, page, tmp_path / "deed.pdf", **pdf)
    out = tmp_path / "deed.ocr.pdf"
    out.write_bytes(render("pdf", result, source="deed.pdf", document=source))
    check = subprocess.run(["qpdf", "--check", str(out)], capture_output=True, text=True,
                           check=False)
    assert check.returncode == 0, check.stdout + check.stderr
    assert len(pdfium.PdfDocument(out)) == len(pdfium.PdfDocument(source))
    assert images(out) == images(source)  # the scan as stored, not re-encoded
    assert rendered(out) == rendered(source)  # and the page looks as it did
    assert out.stat().st_size <= 1.3 * source.stat().st_size + 64 * 1024
    assert cer(page.text, pdftotext(out)) <= 0.02, name


def test_a_page_drawing_with_its_parents_resources_keeps_them(pipeline: Pipeline,
                                                              tmp_path: Path) -> None:
    page = acte_page(75, lines=10)
    write_pdf([page], tmp_path / "plain.pdf")
    with pikepdf.open(tmp_path / "plain.pdf") as pdf:  # resources moved up the page tree
        first = pdf.pages[0].obj
        first.Parent.Resources = first.Resources
        del first["/Resources"]
        pdf.save(tmp_path / "inherits.pdf")
    source = tmp_path / "inherits.pdf"
    result = pipeline.process(source, "acte", source="inherits.pdf")
    out = tmp_path / "inherits.ocr.pdf"
    out.write_bytes(render("pdf", result, source="inherits.pdf", document=source))
    assert rendered(out) == rendered(source)
    assert cer(page.text, pdftotext(out)) <= 0.02


@pytest.mark.parametrize(("page", "pdf"), [
    (acte_page(71, lines=14, orientation_deg=90), {}),
    (acte_page(74, lines=14), {"rotate": 270}),
])
def test_text_shown_turned_90_degrees_counter_clockwise_reads_in_order_in_a_viewer(
        pipeline: Pipeline, tmp_path: Path, page: GeneratedPage,
        pdf: dict[str, object]) -> None:
    """pdfium (Chrome's viewer) reads the lines in order. Poppler's pdftotext gives the
    lines of any text shown turned 90 degrees counter-clockwise last first (a PDF pdfium
    writes with three such lines of Helvetica reads the same way), so only its words are
    checked there. (pdfium, for its part, gives the words of any upside-down line last
    first, as it does those of its own Helvetica: the upside-down scan is checked with
    pdftotext above.)"""
    result, source = read(pipeline, page, tmp_path / "deed.pdf", **pdf)
    out = tmp_path / "deed.ocr.pdf"
    out.write_bytes(render("pdf", result, source="deed.pdf", document=source))
    text = pdfium.PdfDocument(out)[0].get_textpage().get_text_range().replace("\r\n", "\n")
    assert cer(page.text, text) <= 0.02
    assert sorted(pdftotext(out).split()) == sorted(text.split())


def test_a_searchable_pdf_is_made_from_a_pdf_only(pipeline: Pipeline,
                                                   tmp_path: Path) -> None:
    image = tmp_path / "deed.png"
    write_image(acte_page(72, lines=2), image)
    result = pipeline.process(image, "acte", source="deed.png")
    with pytest.raises(OutputNeedsPdf):
        render("pdf", result, source="deed.png", document=image)
    assert render("alto", result, source="deed.png", document=image).startswith(b"<?xml")


def test_words_no_font_encoding_holds_and_empty_words_leave_a_valid_pdf(
        tmp_path: Path) -> None:
    from ocrmp.ocr.result import PageResult

    source = tmp_path / "blank.pdf"
    write_pdf([np.full((1100, 850), 255, np.uint8)], source, dpi=100)
    words = [[100, 100, 300, 140, 90, "Cœur"], [320, 100, 330, 140, 10, ""],
             [340, 100, 500, 140, 80, "ŋ→x"], [520, 100, 700, 140, 95, "été"]]
    layout = {"lines": [{"box": [100, 100, 700, 140], "words": words}]}
    page = PageResult(index=0, text="Cœur ŋ→x été", confidence=90, width=850, height=1100,
                      dpi=100, low_confidence=False, layout=layout)
    result = OcrResult(kind="acte", engine="test", page_results=[page])
    out = tmp_path / "blank.ocr.pdf"
    out.write_bytes(render("pdf", result, source="blank.pdf", document=source))
    assert subprocess.run(["qpdf", "--check", str(out)], capture_output=True,
                          check=False).returncode == 0
    assert pdftotext(out).split() == ["Cœur", "??x", "été"]  # what cp1252 cannot say: "?"
