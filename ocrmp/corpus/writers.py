"""Pages to files: PDFs the way scanners write them, and single images."""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pypdfium2 as pdfium
from PIL import Image

from ocrmp.corpus.page import GeneratedPage

PageLike = np.ndarray | GeneratedPage


def _pixels(page: PageLike) -> np.ndarray:
    return page.image if isinstance(page, GeneratedPage) else page


def _per_page(value: int | Sequence[int] | None, pages: Sequence[PageLike],
              name: str) -> list[int | None]:
    if value is None or isinstance(value, int):
        return [value] * len(pages)
    if len(value) != len(pages):
        raise ValueError(f"{name} gives {len(value)} values for {len(pages)} pages")
    return list(value)


def _page_image(
    pdf: pdfium.PdfDocument, img: np.ndarray, jpeg_quality: int | None
) -> pdfium.PdfImage:
    image = pdfium.PdfImage.new(pdf)
    if jpeg_quality is None:
        # Flate, lossless: the PDF holds exactly the pixels the truth describes.
        image.set_bitmap(pdfium.PdfBitmap.from_pil(Image.fromarray(img)))
    else:
        buffer = io.BytesIO()
        Image.fromarray(img).save(buffer, "JPEG", quality=jpeg_quality)
        buffer.seek(0)
        image.load_jpeg(buffer, inline=False)
    return image


def write_pdf(
    pages: Sequence[PageLike],
    path: str | Path,
    *,
    dpi: int | Sequence[int] | None = None,
    jpeg_quality: int | None = None,
    placement_dpi: int | Sequence[int] | None = None,
    rotate: int | Sequence[int] = 0,
) -> None:
    """One image per page filling the page, the way a scanner writes a PDF.

    `pages` are images or generated pages, grey or colour. `dpi` is the pixels' true
    resolution (a generated page's own when None, else 300); `placement_dpi` the one the
    PDF declares by the page's size (a 300-dpi scan placed as if 72 dpi), `dpi` when None;
    `rotate` the page's /Rotate (0, 90, 180, 270), which viewers apply on display.
    """
    sizes = _per_page(dpi, pages, "dpi")
    placed = _per_page(placement_dpi, pages, "placement_dpi")
    turns = _per_page(rotate, pages, "rotate")
    pdf = pdfium.PdfDocument.new()
    try:
        for page_like, true_dpi, shown, turn in zip(pages, sizes, placed, turns, strict=True):
            own = page_like.dpi if isinstance(page_like, GeneratedPage) else 300
            resolution = shown or true_dpi or own  # what the page size will declare
            img = _pixels(page_like)
            h, w = img.shape[:2]
            page = pdf.new_page(w * 72 / resolution, h * 72 / resolution)
            image = _page_image(pdf, img, jpeg_quality)
            image.set_matrix(pdfium.PdfMatrix().scale(w * 72 / resolution, h * 72 / resolution))
            page.insert_obj(image)
            page.gen_content()
            if turn:
                page.set_rotation(turn)
            page.close()
        pdf.save(str(path))
    finally:
        pdf.close()


def write_image(page: PageLike, path: str | Path, *, dpi: int | None = 300,
                jpeg_quality: int = 90) -> None:
    """A single page as an image file (PNG, TIFF, JPEG: chosen by the suffix).

    `dpi` is what the file's metadata says, true or not; None writes no resolution.
    """
    image, path = Image.fromarray(_pixels(page)), Path(path)
    extra: dict[str, Any] = {} if dpi is None else {"dpi": (dpi, dpi)}
    if path.suffix.lower() in (".jpg", ".jpeg"):
        extra["quality"] = jpeg_quality
    image.save(path, **extra)
