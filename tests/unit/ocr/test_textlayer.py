"""A born-digital page's own text, and the pages that must still be recognised."""

from __future__ import annotations

import ctypes
import io

import numpy as np
import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
from PIL import Image

from ocrmp.ocr.pages import PageImage, PageText, iter_pages
from ocrmp.ocr.pipeline import Pipeline
from ocrmp.ocr.settings import OcrSettings

USE = OcrSettings(text_layer="use", dpi=100)
LINES = ("Vente de l'immeuble", "lot 1 234 567")


def _add_text(pdf: pdfium.PdfDocument, page: pdfium.PdfPage, text: str, y: float,
              invisible: bool = False) -> None:
    obj = pdfium_c.FPDFPageObj_NewTextObj(pdf.raw, b"Helvetica", ctypes.c_float(12))
    wide = (text + "\0").encode("utf-16-le")
    pdfium_c.FPDFText_SetText(obj, ctypes.cast(ctypes.c_char_p(wide),
                                               ctypes.POINTER(ctypes.c_ushort)))
    if invisible:
        pdfium_c.FPDFTextObj_SetTextRenderMode(obj, pdfium_c.FPDF_TEXTRENDERMODE_INVISIBLE)
    pdfium_c.FPDFPageObj_Transform(obj, 1, 0, 0, 1, 72, y)
    pdfium_c.FPDFPage_InsertObject(page.raw, obj)


def pdf_with(lines: tuple[str, ...], *, scan: bool = False, invisible: bool = False) -> bytes:
    """A letter page: typed text objects, over a full-page scan image when `scan`."""
    pdf = pdfium.PdfDocument.new()
    page = pdf.new_page(612, 792)
    if scan:
        image = pdfium.PdfImage.new(pdf)
        pixels = np.full((1100, 850), 255, np.uint8)
        pixels[200:220, 100:700] = 0
        image.set_bitmap(pdfium.PdfBitmap.from_pil(Image.fromarray(pixels)))
        image.set_matrix(pdfium.PdfMatrix().scale(612, 792))
        page.insert_obj(image)
    for i, line in enumerate(lines):
        _add_text(pdf, page, line, 700 - 20 * i, invisible)
    page.gen_content()
    page.close()
    buffer = io.BytesIO()
    pdf.save(buffer)
    pdf.close()
    return buffer.getvalue()


class NoEngine:
    """Fails if anything is recognised: a text-layer page must not reach the engine."""

    name = "none"

    def recognize(self, *args: object, **kwargs: object) -> None:
        raise AssertionError("recognised a page that carries its own text")

    line_confidence = detect_orientation = recognize

    def set_deadline(self, deadline: float | None) -> None:
        pass


def test_a_born_digital_page_gives_its_own_text_without_recognition() -> None:
    result = Pipeline(USE, engine=NoEngine()).process(pdf_with(LINES), "acte",  # type: ignore[arg-type]
                                                      source="n.pdf")
    page = result.page_results[0]
    assert page.source == "text_layer" and page.text.splitlines() == list(LINES)
    assert result.to_json()["page_results"][0]["source"] == "text_layer"  # type: ignore[index]


def test_by_default_the_text_layer_is_ignored() -> None:
    (page,) = iter_pages(pdf_with(LINES), settings=OcrSettings(dpi=100), source="n.pdf")
    assert isinstance(page, PageImage)


def test_an_invisible_layer_over_a_scan_is_an_earlier_ocr_and_is_read_again() -> None:
    (page,) = iter_pages(pdf_with(LINES, scan=True, invisible=True), settings=USE,
                         source="o.pdf")
    assert isinstance(page, PageImage)


def test_invisible_text_alone_is_not_a_reason_to_skip() -> None:
    (page,) = iter_pages(pdf_with(LINES, invisible=True), settings=USE, source="i.pdf")
    assert isinstance(page, PageImage)


def test_a_scan_with_a_typed_header_is_still_a_scan() -> None:
    (page,) = iter_pages(pdf_with(LINES[:1], scan=True), settings=USE, source="h.pdf")
    assert isinstance(page, PageImage)


def test_a_page_without_any_text_is_recognised() -> None:
    (page,) = iter_pages(pdf_with(()), settings=USE, source="e.pdf")
    assert isinstance(page, PageImage) and not isinstance(page, PageText)
