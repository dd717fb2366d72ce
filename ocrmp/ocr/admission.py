"""What a document must be to enter the queue, checked as the pipeline would check it
before any page is read: a regular, readable file, a PDF or an image by its bytes, that
opens (not damaged, not encrypted), with at least one page and no more than the cap.
`ocrmp enqueue` checks every file so before it queues any."""

from __future__ import annotations

import os
from pathlib import Path

from ocrmp.ocr.errors import DocumentNotFound, DocumentTooLarge, EmptyDocument, TooManyPages
from ocrmp.ocr.pages import count_pages
from ocrmp.ocr.settings import OcrSettings
from ocrmp.ocr.storage import refuse_irregular


def readable(path: Path) -> os.stat_result:
    """The file's status, once it is known to be a regular file this user can open."""
    source = str(path)
    try:
        info = path.stat()
        refuse_irregular(info, source)  # before open(): a FIFO would block it
        with open(path, "rb"):
            pass
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
        raise DocumentNotFound(source, "no such file") from None
    except PermissionError:
        raise DocumentNotFound(source, "permission denied") from None
    return info


def admit(path: Path, settings: OcrSettings) -> int:
    """The document's page count; the pipeline's own error (a DocumentError) otherwise."""
    source = str(path)
    info = readable(path)
    if info.st_size > settings.max_document_bytes:
        raise DocumentTooLarge(source, f"{info.st_size} bytes")
    if info.st_size == 0:
        raise EmptyDocument(source, "zero bytes")
    pages = count_pages(path, source=source)
    if pages <= 0:
        raise EmptyDocument(source, "zero pages")
    if pages > settings.max_pages:
        raise TooManyPages(source, f"{pages} pages, cap {settings.max_pages}")
    return pages

