"""Named OCR errors. Each says what happened to which document, and what to do.

Permanent errors (the document itself is the problem) send a job to status 4 at once;
transient ones (storage or engine trouble that may pass) are retried; `EngineUnavailable`
is a startup error: a worker without tesseract or its language data must not take jobs.

Each job error has a kind (`CorruptDocument.kind == "corrupt_document"`, see
`ocrmp.errors.JobError`): a failed job's `ocr_error` starts with it, so `error_kind()` tells
what went wrong without reading words that quote the document's path.
"""

from __future__ import annotations

from ocrmp.errors import ConfigError, PermanentJobError, TransientJobError


def _message(doc: str | None, source: str, detail: str) -> str:
    text = " ".join((doc or "").split())
    if source:
        text = f"{source}: {text}"
    if detail:
        text = f"{text} ({detail})"
    return text


class _Named:
    """Mixin: the message is `source: docstring (detail)`, on one line."""

    def __init__(self, source: str = "", detail: str = "") -> None:
        self.source = source
        self.detail = detail
        super().__init__(_message(type(self).__doc__, source, detail))  # type: ignore[call-arg]

    def __reduce__(self) -> tuple[type, tuple[str, str]]:
        # Workers may pickle errors to their master: rebuild from the parts, not the message.
        return type(self), (self.source, self.detail)


class DocumentError(_Named, PermanentJobError):
    """cannot be OCR'd."""


class UnsupportedFormat(DocumentError):
    """is neither a PDF nor a PNG, JPEG or TIFF image; upload the scan as a PDF or an image."""


class NotAPdf(UnsupportedFormat):
    """is named as a PDF but is not one (no %PDF header); check the upload is the real file."""


class UnsupportedKind(DocumentError):
    """has a document kind that is not OCR'd page by page (expected acte or index)."""


class CorruptDocument(DocumentError):
    """is damaged and cannot be read; re-scan or re-export it and upload it again."""


class EncryptedDocument(DocumentError):
    """is password-protected; upload a copy saved without a password."""


class EmptyDocument(DocumentError):
    """is empty (zero bytes or zero pages); upload the complete file again."""


class ImageTooLarge(DocumentError):
    """has a page image larger than the megapixel cap (OCRMP_MAX_MEGAPIXELS); rescan it at
    300 dpi or raise the cap."""


class PageTooComplex(DocumentError):
    """has a page that cannot be rendered within the renderer's memory (set by
    OCRMP_MAX_MEGAPIXELS) or crashes it; re-export it as a scan at 300 dpi."""


class BlankPages(DocumentError):
    """has a long run of pages that read as blank and more pages after them; stopped
    rather than read on for hours: check the scan (an empty feed, a wrong export) and
    upload the document's real pages."""


class DocumentTooLarge(DocumentError):
    """is larger than the document size cap (OCRMP_MAX_DOCUMENT_MB); split it or raise
    the cap."""


class TooManyPages(DocumentError):
    """has more pages than the page cap (OCRMP_MAX_PAGES); split it or raise the cap."""


class DocumentNotFound(DocumentError):
    """was not found; check the path (supabase_path) and that the file was uploaded."""


class PathEscapesRoot(DocumentError):
    """points outside the storage root (absolute path, '..' or a symlink out); refused,
    fix the supabase_path."""


class PathTooLong(DocumentError):
    """has a supabase_path longer than a worker's slot carries; refused, store the document
    under a shorter path (at most 768 bytes)."""


class NotARegularFile(DocumentError):
    """is not a regular file (a FIFO, device or socket); refused, put the document itself
    there."""


class RedirectRefused(DocumentError):
    """was redirected by the storage to another origin (or from https to http); refused so
    that the storage token never leaves its origin: point OCRMP_STORAGE_URL at the server
    that holds the documents."""


class TooManyRedirects(DocumentError):
    """was redirected too many times by the storage; fix the storage or OCRMP_STORAGE_URL."""


class StorageUnavailable(_Named, TransientJobError):
    """The storage could not be reached; the job will be retried."""


class EngineTimeout(_Named, TransientJobError):
    """Tesseract took longer than the page timeout (OCRMP_PAGE_TIMEOUT); the job will be
    retried."""


class RenderTimeout(_Named, TransientJobError):
    """took longer than the page timeout (OCRMP_PAGE_TIMEOUT) to render; the job will be
    retried, and fails for good when its attempts are spent."""


class DocumentTimeout(_Named, TransientJobError):
    """took longer than the document's time limit (OCRMP_PAGE_TIMEOUT per page, at most
    OCRMP_DOCUMENT_TIMEOUT); the job will be retried, and fails for good when its
    attempts are spent."""


class EngineCrashed(_Named, TransientJobError):
    """Tesseract failed on a page; the job will be retried."""


class EngineUnavailable(_Named, ConfigError):
    """The OCR engine cannot start: install tesseract and its language data
    (e.g. apt-get install tesseract-ocr tesseract-ocr-fra) or set OCRMP_TESSDATA."""
