"""Pages: format detection, PDF extraction vs rendering, images, named errors, laziness.

The builders at the top make small documents in memory; the acceptance tests reuse them.
"""

from __future__ import annotations

import io
import itertools
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pypdfium2 as pdfium
import pytest
from PIL import Image

from ocrmp.ocr import pages, readahead
from ocrmp.ocr.errors import (
    CorruptDocument,
    EmptyDocument,
    EncryptedDocument,
    ImageTooLarge,
    NotAPdf,
    PageTooComplex,
    RenderTimeout,
    TooManyPages,
    UnsupportedFormat,
)
from ocrmp.ocr.pages import count_pages, detect_format, iter_pages
from ocrmp.ocr.result import PageResult
from ocrmp.ocr.settings import OcrSettings
from tests.hostile import hidden_giants, stroke_bomb, stroke_pages

SETTINGS = OcrSettings(dpi=100)


def page_pixels(seed: int, shape: tuple[int, int] = (110, 85)) -> np.ndarray:
    """A small page: white paper with a few dark bars, different per seed."""
    rng = np.random.default_rng(seed)
    img = np.full(shape, 255, np.uint8)
    for _ in range(4):
        y, x = int(rng.integers(0, shape[0] - 6)), int(rng.integers(0, shape[1] - 20))
        img[y:y + 5, x:x + 20] = int(rng.integers(0, 80))
    return img


def scan_pdf(images: list[np.ndarray], dpi: int = 100, cover: float = 1.0) -> bytes:
    """A scanner's PDF: one image per page, drawn over `cover` of the page."""
    pdf = pdfium.PdfDocument.new()
    for img in images:
        h, w = img.shape
        page = pdf.new_page(w * 72 / dpi, h * 72 / dpi)
        image = pdfium.PdfImage.new(pdf)
        image.set_bitmap(pdfium.PdfBitmap.from_pil(Image.fromarray(img)))
        image.set_matrix(pdfium.PdfMatrix().scale(cover * w * 72 / dpi, cover * h * 72 / dpi))
        page.insert_obj(image)
        page.gen_content()
        page.close()
    buffer = io.BytesIO()
    pdf.save(buffer)
    pdf.close()
    return buffer.getvalue()


def blank_pdf(pages_count: int) -> bytes:
    pdf = pdfium.PdfDocument.new()
    for _ in range(pages_count):
        pdf.new_page(72, 72).close()
    buffer = io.BytesIO()
    pdf.save(buffer)
    pdf.close()
    return buffer.getvalue()


def image_bytes(images: list[np.ndarray], fmt: str) -> bytes:
    buffer = io.BytesIO()
    first, *rest = [Image.fromarray(i) for i in images]
    extra = {"save_all": True, "append_images": rest} if rest else {}
    first.save(buffer, fmt, dpi=(200, 200), **extra)
    return buffer.getvalue()


def encrypted_pdf() -> bytes:
    """A scan PDF that qpdf encrypted (AES-256) with a user password: unreadable without it."""
    with tempfile.TemporaryDirectory() as tmp:
        plain, locked = Path(tmp) / "plain.pdf", Path(tmp) / "locked.pdf"
        plain.write_bytes(scan_pdf([page_pixels(9)]))
        subprocess.run(["qpdf", "--encrypt", "user-secret", "owner-secret", "256", "--",
                        str(plain), str(locked)], check=True, capture_output=True)
        return locked.read_bytes()


CORRUPT_PDF = b"%PDF-1.7\n1 0 obj <</Type /Catalog /Pages 2 0 R>> endobj\nnonsense\n%%EOF"


def test_detect_format_by_magic_bytes_not_by_name() -> None:
    assert detect_format(scan_pdf([page_pixels(0)]), "x.png") == "pdf"
    assert detect_format(b"junk\n%PDF-1.4\n", "x") == "pdf"
    assert detect_format(image_bytes([page_pixels(0)], "PNG"), "x.pdf") == "image"
    with pytest.raises(NotAPdf, match="x.pdf: is named as a PDF but is not one"):
        detect_format(b"<html>oops</html>", "x.pdf")
    with pytest.raises(UnsupportedFormat, match="doc.docx: is neither a PDF nor"):
        detect_format(b"PK\x03\x04", "doc.docx")


def test_scan_pdf_pages_are_extracted_pixel_for_pixel() -> None:
    originals = [page_pixels(1), page_pixels(2)]
    got = list(iter_pages(scan_pdf(originals), settings=SETTINGS, source="s.pdf"))
    assert [p.index for p in got] == [0, 1]
    assert all(p.extracted for p in got)
    for page, original in zip(got, originals, strict=True):
        assert page.image.dtype == np.uint8 and page.image.flags["C_CONTIGUOUS"]
        np.testing.assert_array_equal(page.image, original)
        assert page.dpi == pytest.approx(100, rel=0.01)


def test_page_not_covered_by_one_image_is_rendered_at_settings_dpi() -> None:
    data = scan_pdf([page_pixels(3)], cover=0.5)
    (page,) = iter_pages(data, settings=OcrSettings(dpi=144), source="s.pdf")
    assert not page.extracted
    assert page.dpi == 144
    # The page is 1.1 x 0.85 inch: 158.4 x 122.4 pixels at 144 dpi.
    assert page.image.shape[0] in (158, 159) and page.image.shape[1] in (122, 123)


class Runs:
    """Spies on the children that read pages: the first page each was asked for, and how
    many it was asked for."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.asked: list[int] = []
        real: Callable[..., list[object]] = readahead.run_each

        def spy(calls: list[Callable[[], object]], **bounds: object) -> list[object]:
            self.asked.append(len(calls))
            return real(calls, **bounds)

        monkeypatch.setattr(readahead, "run_each", spy)


def test_one_child_reads_the_pages_of_a_small_document(monkeypatch: pytest.MonkeyPatch) -> None:
    runs = Runs(monkeypatch)
    stream = iter_pages(scan_pdf([page_pixels(i) for i in range(3)]), settings=SETTINGS,
                        source="s.pdf")
    assert [p.index for p in stream] == [0, 1, 2] and runs.asked == [3]


def test_pages_are_read_no_further_ahead_than_the_read_ahead_bytes(
        monkeypatch: pytest.MonkeyPatch) -> None:
    runs = Runs(monkeypatch)
    size = page_pixels(0).nbytes
    monkeypatch.setattr(readahead, "READ_AHEAD_BYTES", 2 * size)  # two pages a child
    stream = iter_pages(scan_pdf([page_pixels(i) for i in range(5)]), settings=SETTINGS,
                        source="s.pdf")
    first = next(stream)
    assert first.index == 0 and runs.asked == [5]  # nothing past the first child's pages
    assert [p.index for p in stream] == [1, 2, 3, 4]
    assert runs.asked == [5, 3, 1]  # pages 1-2, 3-4, then 5


def two_documents(*documents: bytes) -> bytes:
    joined = pdfium.PdfDocument.new()
    for data in documents:
        joined.import_pages(pdfium.PdfDocument(data))
    out = io.BytesIO()
    joined.save(out)
    return out.getvalue()


def test_a_page_too_complex_after_a_good_one_is_read_alone_and_named(
        monkeypatch: pytest.MonkeyPatch) -> None:
    runs = Runs(monkeypatch)
    data = two_documents(scan_pdf([page_pixels(0)]), stroke_bomb())
    stream = iter_pages(data, settings=OcrSettings(dpi=300, page_timeout_s=60),
                        source="b.pdf")
    assert next(stream).index == 0  # the good page first, as it was read
    with pytest.raises(PageTooComplex) as info:
        next(stream)
    assert info.value.detail.startswith("page 2:")
    assert runs.asked == [2, 1]  # the run of both pages, then page 2 alone


def test_a_page_drawing_for_minutes_after_a_good_one_is_stopped_at_its_own_deadline() -> None:
    data = two_documents(scan_pdf([page_pixels(0)]), stroke_pages(1, 100_000))
    stream = iter_pages(data, settings=OcrSettings(dpi=300, page_timeout_s=0.5),
                        source="s.pdf")
    assert next(stream).index == 0
    with pytest.raises(RenderTimeout) as info:
        next(stream)
    assert info.value.source == "s.pdf page 2"


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "TIFF"])
def test_single_images(fmt: str) -> None:
    original = page_pixels(4)
    (page,) = iter_pages(image_bytes([original], fmt), settings=SETTINGS, source=f"p.{fmt}")
    assert page.image.shape == original.shape and page.dpi == 200 and not page.extracted
    if fmt != "JPEG":
        np.testing.assert_array_equal(page.image, original)


def test_multi_page_tiff() -> None:
    originals = [page_pixels(i) for i in range(3)]
    data = image_bytes(originals, "TIFF")
    got = list(iter_pages(data, settings=SETTINGS, source="m.tif"))
    assert count_pages(data, source="m.tif") == 3
    for page, original in zip(got, originals, strict=True):
        np.testing.assert_array_equal(page.image, original)


def test_the_frames_of_an_image_file_are_decoded_in_a_reading_child(
        monkeypatch: pytest.MonkeyPatch) -> None:
    runs = Runs(monkeypatch)
    data = image_bytes([page_pixels(i) for i in range(3)], "TIFF")
    assert [p.index for p in iter_pages(data, settings=SETTINGS, source="m.tif")] == [0, 1, 2]
    assert runs.asked == [3]


def test_an_image_frame_that_decodes_for_minutes_is_stopped_at_the_page_timeout(
        monkeypatch: pytest.MonkeyPatch) -> None:
    real = pages._decode

    def slow_second(frame: Image.Image, source: str, index: int) -> np.ndarray:
        if index == 1:  # runs in the reading child, which inherits the patch
            time.sleep(3600)
        return real(frame, source, index)

    monkeypatch.setattr(pages, "_decode", slow_second)
    data = image_bytes([page_pixels(i) for i in range(3)], "TIFF")
    stream = iter_pages(data, settings=OcrSettings(dpi=100, page_timeout_s=0.5),
                        source="m.tif")
    assert next(stream).index == 0
    with pytest.raises(RenderTimeout) as info:
        next(stream)
    assert info.value.source == "m.tif page 2"


@pytest.mark.parametrize(
    ("data", "error", "message"),
    [
        (b"", EmptyDocument, "e.pdf: is empty (zero bytes or zero pages); upload"),
        (encrypted_pdf(), EncryptedDocument, "e.pdf: is password-protected"),
        (CORRUPT_PDF, CorruptDocument, "e.pdf: is damaged and cannot be read"),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 40, CorruptDocument, "e.pdf: is damaged"),
        (b"GIF89a....", NotAPdf, "e.pdf: is named as a PDF"),
    ],
    ids=["zero-bytes", "encrypted", "corrupt-pdf", "corrupt-png", "not-a-pdf"],
)
def test_bad_documents_raise_named_permanent_errors(data: bytes, error: type[Exception],
                                                    message: str) -> None:
    with pytest.raises(error, match=message.replace("(", r"\(").replace(")", r"\)")) as info:
        list(iter_pages(data, settings=SETTINGS, source="e.pdf"))
    assert info.value.permanent  # type: ignore[attr-defined]


def test_page_cap() -> None:
    data = scan_pdf([page_pixels(5)] * 3)
    with pytest.raises(TooManyPages, match=r"t.pdf: has more pages .*\(3 pages, cap 2\)"):
        next(iter_pages(data, settings=OcrSettings(max_pages=2), source="t.pdf"))


def test_the_encrypted_builder_makes_a_pdf_that_needs_its_password() -> None:
    data = encrypted_pdf()
    with pytest.raises(pdfium.PdfiumError):
        pdfium.PdfDocument(data)
    with pdfium.PdfDocument(data, password="user-secret") as pdf:
        assert len(pdf) == 1


# The default cap: 60 MP, twice an A3 page at 400 dpi.
CAPPED = OcrSettings(dpi=100)


def test_an_image_drawn_small_is_capped_by_its_stored_pixels() -> None:
    # 81 MP drawn into one square inch: the page renders tiny, the image decodes huge.
    with pytest.raises(ImageTooLarge) as info:
        next(iter_pages(hidden_giants(9000, count=1), settings=CAPPED, source="g.pdf"))
    assert info.value.detail == "page 1 draws images of 81 MP in all, cap 60 MP"


def test_images_of_a_page_are_capped_together() -> None:
    # Two of 36 MP: each under the cap, 72 MP together.
    data = hidden_giants(6000, count=2)
    with pytest.raises(ImageTooLarge):
        next(iter_pages(data, settings=CAPPED, source="g.pdf"))
    (page,) = iter_pages(data, settings=OcrSettings(dpi=100, max_megapixels=80), source="g.pdf")
    assert isinstance(page, pages.PageImage) and not page.extracted


def test_a_huge_page_is_capped_by_its_rendered_size() -> None:
    pdf = pdfium.PdfDocument.new()
    pdf.new_page(14400, 14400).close()  # 200 inches square: 400 MP at 100 dpi
    buffer = io.BytesIO()
    pdf.save(buffer)
    with pytest.raises(ImageTooLarge) as info:
        next(iter_pages(buffer.getvalue(), settings=CAPPED, source="h.pdf"))
    assert info.value.detail == "page 1 is 400 MP, cap 60 MP"


def test_a_page_just_under_the_cap_renders_within_the_renderers_memory() -> None:
    pdf = pdfium.PdfDocument.new()
    pdf.new_page(612, 792).close()  # letter at 800 dpi: 59.8 MP
    buffer = io.BytesIO()
    pdf.save(buffer)
    (page,) = iter_pages(buffer.getvalue(), settings=OcrSettings(dpi=800), source="l.pdf")
    assert isinstance(page, pages.PageImage) and page.image.shape == (8800, 6800)


def test_a_big_image_file_is_capped_before_decoding() -> None:
    buffer = io.BytesIO()
    Image.new("L", (8000, 8000), 255).save(buffer, "PNG")  # 64 MP of white: a few KB
    with pytest.raises(ImageTooLarge) as info:
        next(iter_pages(buffer.getvalue(), settings=CAPPED, source="w.png"))
    assert info.value.detail == "page 1 is 64 MP, cap 60 MP"


def test_pdf_without_pages_is_empty() -> None:
    with pytest.raises(EmptyDocument, match="zero pages"):
        list(iter_pages(blank_pdf(0), settings=SETTINGS, source="z.pdf"))


def test_blank_pdf_page_renders_white() -> None:
    (page,) = iter_pages(blank_pdf(1), settings=SETTINGS, source="b.pdf")
    assert not page.extracted and page.image.min() == 255


def test_page_result_json_has_rows_only_for_index() -> None:
    base = {"index": 0, "text": "x", "confidence": 91.234, "width": 10, "height": 20,
            "dpi": 300.0, "low_confidence": False}
    acte = PageResult(**base).to_json()  # type: ignore[arg-type]
    index = PageResult(**base, rows=[{"date": "2001"}]).to_json()  # type: ignore[arg-type]
    assert "rows" not in acte and index["rows"] == [{"date": "2001"}]
    assert acte["page"] == 1 and acte["confidence"] == 91.23


def test_builders_make_what_they_say() -> None:
    assert list(itertools.islice(iter_pages(scan_pdf([page_pixels(0)]), settings=SETTINGS,
                                            source="x"), 1))
