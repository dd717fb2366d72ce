"""A document's page as a PNG for the console, read as the OCR reads it.

The page is read and encoded in a child under the page timeout and the megapixel and
memory caps (`pages.read_page`), so a hostile PDF ends in an error image after at most the
page timeout, and the console goes on answering. One page is drawn at a time: pdfium,
which counts the pages in this process, is not safe to call from two threads.
"""

from __future__ import annotations

import contextlib
import functools
import threading
from collections.abc import Iterator
from dataclasses import dataclass, replace

import cv2
import numpy as np

from ocrmp.config import Settings
from ocrmp.errors import OcrmpError
from ocrmp.ocr.pages import Document, PageImage, PageText, read_page
from ocrmp.ocr.settings import OcrSettings
from ocrmp.ocr.storage import Storage, open_storage

THUMBNAIL_SIDE = 360  # pixels, the longer side


@dataclass(frozen=True)
class Drawing:
    png: bytes
    error_kind: str | None = None  # None: the page itself; else why it could not be drawn


def encode(page: PageImage | PageText, max_side: int | None) -> bytes:
    """The page's pixels as PNG, scaled down to `max_side` when given (runs in the child)."""
    if isinstance(page, PageText):  # never asked for: the console reads text layers off
        return error_png("text_layer")
    image = page.image
    height, width = image.shape[:2]
    scale = min(1.0, max_side / max(height, width)) if max_side else 1.0
    if scale < 1.0:
        size = (max(1, round(width * scale)), max(1, round(height * scale)))
        image = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
    ok, data = cv2.imencode(".png", image)
    if not ok:
        raise ValueError("PNG encoding failed")
    return data.tobytes()


def error_png(kind: str) -> bytes:
    """A page-shaped grey image naming why the page cannot be shown."""
    canvas = np.full((466, THUMBNAIL_SIDE), 225, dtype=np.uint8)
    for row, text in enumerate(("page not shown:", kind[:28])):
        cv2.putText(canvas, text, (16, 200 + 36 * row), cv2.FONT_HERSHEY_SIMPLEX, 0.7, 40, 2,
                    cv2.LINE_AA)
    return cv2.imencode(".png", canvas)[1].tobytes()


class PageImages:
    """Pages of the documents in storage, drawn one at a time."""

    def __init__(self, settings: Settings) -> None:
        root = settings.storage_root
        ocr = replace(settings.ocr, storage_root=str(root)) if root else settings.ocr
        # Drawn as the page was read, never from a text layer.
        self.ocr: OcrSettings = replace(ocr, text_layer="ignore")
        self._storage: Storage | None = None
        self._lock = threading.Lock()

    @contextlib.contextmanager
    def _document(self, supabase_path: str) -> Iterator[Document]:
        """The document, opened once and read through its descriptor (local storage), or
        its bytes (HTTP)."""
        if self._storage is None:
            self._storage = open_storage(self.ocr)
        opener = getattr(self._storage, "open", None)
        if opener is None:
            yield self._storage.fetch(supabase_path)
            return
        with opener(supabase_path) as document:
            yield document.path

    def draw(self, supabase_path: str, index: int, *, thumbnail: bool) -> Drawing:
        """Page `index` (0-based) as PNG, or an error image and the error's kind."""
        shape = functools.partial(encode, max_side=THUMBNAIL_SIDE if thumbnail else None)
        with self._lock:
            try:
                with self._document(supabase_path) as document:
                    return Drawing(read_page(document, index, shape, settings=self.ocr,
                                             source=supabase_path))
            except OcrmpError as error:
                kind = str(getattr(error, "kind", "unavailable"))
                return Drawing(error_png(kind), kind)
