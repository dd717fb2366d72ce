"""A document's bytes to page images, one page at a time.

PDFs go through pypdfium2: a page that is a single scan image covering the page is
extracted as it is stored (no re-render, no resampling); any other page is rendered at
`settings.dpi`. PNG, JPEG and (multi-page) TIFF go through Pillow.

Pages are read in a child (`bounded`), killed when a page runs over its own time and
capped in memory; a PDF page only after every image it draws and its rendered size have
been checked against the megapixel cap, an image frame after its size: a few kilobytes
of PDF can draw for hours or decode gigabytes. A child reads pages after one another
(`readahead`), a few megabytes ahead, so memory does not grow with the page count.
"""

from __future__ import annotations

import contextlib
import functools
import io
import re
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import cv2
import numpy as np
import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
from PIL import Image

from ocrmp.ocr.bounded import Budget, Died, TimedOut, run_each
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
from ocrmp.ocr.readahead import read_pages
from ocrmp.ocr.settings import OcrSettings
from ocrmp.ocr.textlayer import visible_text

# How much of the page an image must cover, per side, to count as "the scan".
_COVER = 0.97
# How deep forms nest before pdfium stops looking inside them for images.
_FORM_DEPTH = 16
T = TypeVar("T")
_IMAGE_MAGIC = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"II*\x00", b"MM\x00*")


@dataclass(frozen=True)
class PageImage:
    index: int  # 0-based
    image: np.ndarray  # gray, uint8, (height, width)
    dpi: float
    extracted: bool  # True: the PDF's own scan image; False: rendered or decoded
    # Where dpi comes from: pdf (the scan's placement), render (we rendered it at that
    # resolution), image (the file's metadata) or default (nothing said: settings.dpi).
    dpi_source: str = "default"

    @property
    def declared_dpi(self) -> float | None:
        return None if self.dpi_source == "default" else self.dpi


@dataclass(frozen=True)
class PageText:
    """A born-digital PDF page's own text (`OCRMP_TEXT_LAYER=use`): nothing to recognise."""

    index: int  # 0-based
    text: str
    width_pt: float
    height_pt: float


def detect_format(data: bytes, source: str = "") -> str:
    """'pdf' or 'image', from the magic bytes; named errors for anything else."""
    if not data:
        raise EmptyDocument(source, "zero bytes")
    # The PDF spec tolerates junk before the header; readers look in the first kilobyte.
    if b"%PDF-" in data[:1024]:
        return "pdf"
    if data.startswith(_IMAGE_MAGIC):
        return "image"
    if source.lower().endswith(".pdf"):
        raise NotAPdf(source)
    raise UnsupportedFormat(source)


# A document is its bytes, or the path of a local file: from a path pdfium and Pillow read
# what each page needs, so memory does not hold the whole file.
Document = bytes | Path


def _head(data: Document) -> bytes:
    """The first kilobyte, enough to tell the format."""
    if isinstance(data, bytes):
        return data[:1024]
    with open(data, "rb") as file:
        return file.read(1024)


def _whole(data: Document) -> bytes:
    return data if isinstance(data, bytes) else data.read_bytes()


def iter_pages(data: Document, *, settings: OcrSettings, source: str,
               budget: Budget | None = None,
               count: int | None = None) -> Iterator[PageImage | PageText]:
    """Yield the document's pages in order, each decoded only when asked for; `count`:
    what `count_pages` said, if asked already."""
    if count is None:
        count = count_pages(data, source=source, settings=settings)
    _check_page_count(count, settings, source)
    return read_pages(_page_reader(data, settings, source), count, settings, source, budget)


def read_page(data: Document, index: int, shape: Callable[[PageImage | PageText], T], *,
              settings: OcrSettings, source: str) -> T:
    """Page `index` (0-based) alone, read as `iter_pages` reads it (in a child, under the
    page timeout and the megapixel and memory caps), and `shape`d in that child: the web
    console draws a page this way, so a hostile document costs it a child, never itself."""
    count = count_pages(data, source=source, settings=settings)
    _check_page_count(count, settings, source)
    if not 0 <= index < count:
        raise EmptyDocument(source, f"no page {index + 1}: the document has {count}")
    read = _page_reader(data, settings, source)
    return next(read_pages(lambda _: shape(read(index)), 1, settings, source, None))


def _page_reader(data: Document, settings: OcrSettings,
                 source: str) -> Callable[[int], PageImage | PageText]:
    """What reads page `index` of the document, in a reading child."""
    if detect_format(_head(data), source) == "pdf":
        return functools.partial(_read_pdf_page_alone, data, settings, source)
    return functools.partial(_read_frame, data, settings, source)


def count_pages(data: Document, *, source: str, settings: OcrSettings | None = None) -> int:
    """The document's pages, counted in a child bounded as a page's reading is: finding
    the pages parses the document's page tree, which a small file can make take
    gigabytes or minutes (a page tree in nested compressed object streams)."""
    settings = settings or OcrSettings()
    pdf = detect_format(_head(data), source) == "pdf"
    [outcome] = run_each([functools.partial(_count_here, data, source, pdf)],
                         budget=lambda: settings.page_timeout_s,
                         memory_bytes=settings.render_memory_bytes, max_bytes=0)
    if isinstance(outcome, TimedOut):
        raise RenderTimeout(source, f"counting its pages: stopped after {outcome.seconds:.3g} s")
    if isinstance(outcome, Died):
        cap_mb = settings.render_memory_bytes // 2**20
        raise PageTooComplex(source, f"its page tree: the reader, capped at {cap_mb} MB, "
                                     f"was {outcome}")
    if isinstance(outcome, BaseException):
        raise outcome
    return int(outcome)


def _count_here(data: Document, source: str, pdf: bool) -> int:
    if pdf:
        with _open_pdf(data, source) as document:
            return len(document)
    with _open_image(data, source) as image:
        return int(getattr(image, "n_frames", 1))


def _check_megapixels(width: float, height: float, settings: OcrSettings, source: str,
                      index: int) -> None:
    megapixels = width * height / 1e6
    if megapixels > settings.max_megapixels:
        raise ImageTooLarge(source, f"page {index + 1} is {megapixels:.0f} MP, "
                                    f"cap {settings.max_megapixels:g} MP")


def _check_images(page: pdfium.PdfPage, settings: OcrSettings, source: str,
                  index: int) -> None:
    """Every image the page draws, inside forms too, by its stored pixel size: pdfium
    decodes an image whole to draw it, however small it is drawn."""
    pixels = 0
    for obj in page.get_objects(max_depth=_FORM_DEPTH):
        try:
            if obj.type == pdfium_c.FPDF_PAGEOBJ_IMAGE:
                width, height = obj.get_px_size()
                pixels += width * height
        finally:
            obj.close()
    megapixels = pixels / 1e6
    if megapixels > settings.max_megapixels:
        raise ImageTooLarge(source, f"page {index + 1} draws images of {megapixels:.0f} MP "
                                    f"in all, cap {settings.max_megapixels:g} MP")


def _check_page_count(count: int, settings: OcrSettings, source: str) -> None:
    if count == 0:
        raise EmptyDocument(source, "zero pages")
    if count > settings.max_pages:
        raise TooManyPages(source, f"{count} pages, cap {settings.max_pages}")


# --- PDF ---------------------------------------------------------------------------------

# An open descriptor's own name (storage.OpenedDocument.path): the file opened, whatever
# its name in storage points at now.
_OPEN_FILES = Path("/proc/self/fd")


@contextlib.contextmanager
def _open_pdf(data: Document, source: str) -> Iterator[pdfium.PdfDocument]:
    try:
        if isinstance(data, Path) and data.parent == _OPEN_FILES:
            # pypdfium2 resolves a path before opening it by name, which would name the file
            # in storage again: an open descriptor is read as a stream instead.
            pdf = pdfium.PdfDocument(open(data, "rb"), autoclose=True)  # noqa: SIM115
        else:
            pdf = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        raise _pdf_open_error(exc, data, source) from None
    try:
        yield pdf
    finally:
        pdf.close()


def _pdf_open_error(exc: pdfium.PdfiumError, data: Document, source: str) -> Exception:
    # First: pdfium fails a document without pages without setting its last error, so
    # the code then is whatever an earlier document left (a password error, say).
    if _no_pages(_whole(data)):
        return EmptyDocument(source, "zero pages")
    code = exc.err_code
    if code == pdfium_c.FPDF_ERR_PASSWORD:
        return EncryptedDocument(source)
    if code == pdfium_c.FPDF_ERR_SECURITY:
        return EncryptedDocument(source, "unsupported security handler")
    return CorruptDocument(source, str(exc))


def _no_pages(data: bytes) -> bool:
    # pdfium reports a well-formed PDF without pages as a format error; tell them apart
    # by its page tree: a /Count of 0 and no page object.
    return (re.search(rb"/Count\s*0\b", data) is not None
            and re.search(rb"/Type\s*/Page(?!s)", data) is None)


def _read_pdf_page_alone(data: Document, settings: OcrSettings, source: str,
                         index: int) -> PageImage | PageText:
    # The document is opened for this page only: pdfium keeps every object it has
    # parsed until the document closes, and the child's memory cap is per page.
    with _open_pdf(data, source) as pdf:
        try:
            return _read_pdf_page(pdf, settings, source, index)
        except pdfium.PdfiumError as exc:
            raise CorruptDocument(source, f"page {index + 1}: {exc}") from None


def _read_pdf_page(pdf: pdfium.PdfDocument, settings: OcrSettings, source: str,
                   index: int) -> PageImage | PageText:
    page = pdf[index]
    try:
        if settings.text_layer == "use":
            text = visible_text(page)
            if text is not None:
                return PageText(index, text, *page.get_size())
        image, dpi, extracted = _pdf_page_image(page, settings, source, index)
        return PageImage(index, image, dpi, extracted, "pdf" if extracted else "render")
    finally:
        page.close()


def _pdf_page_image(page: pdfium.PdfPage, settings: OcrSettings, source: str,
                    index: int) -> tuple[np.ndarray, float, bool]:
    width_pt, height_pt = page.get_size()
    _check_images(page, settings, source, index)
    scan = _single_scan_image(page, width_pt, height_pt)
    if scan is not None:
        try:
            px_w, px_h = scan.get_px_size()
            image = _extract(scan)
            if image is not None:
                return image, px_w * 72.0 / width_pt, True
        finally:
            scan.close()
    scale = settings.dpi / 72.0
    _check_megapixels(width_pt * scale, height_pt * scale, settings, source, index)
    bitmap = page.render(scale=scale, grayscale=True, may_draw_forms=False)
    bitmap.warn_on_close = False  # as in _extract: pixels copied before closing
    try:
        return _gray(bitmap.to_numpy()), float(settings.dpi), False
    finally:
        bitmap.close()


def _single_scan_image(page: pdfium.PdfPage, width_pt: float,
                       height_pt: float) -> pdfium.PdfImage | None:
    """The page's only object, if it is an upright image covering the page."""
    if page.get_rotation() != 0:
        return None
    objects = list(page.get_objects(max_depth=1))
    if len(objects) != 1 or objects[0].type != pdfium_c.FPDF_PAGEOBJ_IMAGE:
        for obj in objects:
            obj.close()
        return None
    image = objects[0]
    matrix = image.get_matrix()
    left, bottom, right, top = image.get_bounds()
    # A rotated or mirrored placement would need the transform applied: render instead.
    upright = matrix.b == 0 and matrix.c == 0 and matrix.a > 0 and matrix.d > 0
    covers = (right - left) >= _COVER * width_pt and (top - bottom) >= _COVER * height_pt
    if upright and covers:
        return image
    image.close()
    return None


def _extract(image: pdfium.PdfImage) -> np.ndarray | None:
    try:
        bitmap = image.get_bitmap(render=False)
    except pdfium.PdfiumError:
        return None  # an exotic colour space: the caller renders the page instead
    # _gray copies the pixels before the buffer is freed: closing is safe, so no warning.
    bitmap.warn_on_close = False
    try:
        return _gray(bitmap.to_numpy())
    finally:
        bitmap.close()


def _gray(pixels: np.ndarray) -> np.ndarray:
    """A contiguous gray copy, detached from pdfium's buffer so the bitmap can be freed."""
    if pixels.ndim == 2:
        return np.array(pixels, dtype=np.uint8, copy=True)
    channels = pixels.shape[2]
    if channels == 1:
        return np.array(pixels[:, :, 0], dtype=np.uint8, copy=True)
    code = cv2.COLOR_BGRA2GRAY if channels == 4 else cv2.COLOR_BGR2GRAY
    return cv2.cvtColor(np.ascontiguousarray(pixels), code)


# --- images ------------------------------------------------------------------------------

@contextlib.contextmanager
def _open_image(data: Document, source: str) -> Iterator[Image.Image]:
    # Our own megapixel cap decides; Pillow's bomb warning would otherwise fire first.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        try:
            image = Image.open(io.BytesIO(data) if isinstance(data, bytes) else data)
        except Image.DecompressionBombError as exc:
            raise ImageTooLarge(source, str(exc)) from None
        except (OSError, SyntaxError, ValueError) as exc:
            raise CorruptDocument(source, str(exc)) from None
    try:
        yield image
    finally:
        image.close()


def _read_frame(data: Document, settings: OcrSettings, source: str, index: int) -> PageImage:
    with _open_image(data, source) as image:
        try:
            image.seek(index)
        except (EOFError, OSError, ValueError) as exc:
            raise CorruptDocument(source, f"page {index + 1}: {exc}") from None
        _check_megapixels(image.width, image.height, settings, source, index)
        dpi = _image_dpi(image)
        return PageImage(index, _decode(image, source, index), dpi or float(settings.dpi),
                         False, "image" if dpi else "default")


def _decode(frame: Image.Image, source: str, index: int) -> np.ndarray:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            gray = frame.convert("L")
    except (OSError, SyntaxError, ValueError) as exc:
        raise CorruptDocument(source, f"page {index + 1}: {exc}") from None
    return np.asarray(gray, dtype=np.uint8).copy()


def _image_dpi(frame: Image.Image) -> float | None:
    """The file's declared resolution; None when it declares none or a placeholder."""
    dpi = frame.info.get("dpi")
    try:
        value = float(dpi[0]) if dpi else 0.0
    except (TypeError, ValueError, IndexError):
        value = 0.0
    # PNG stores pixels per metre: round away the conversion's residue (99.9994 is 100).
    # Many scanners write 72 or nothing; below 100 it is a placeholder, not a resolution.
    value = float(round(value))
    return value if value >= 100 else None
