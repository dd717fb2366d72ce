"""The outputs' errors."""

from __future__ import annotations

from ocrmp.errors import TransientJobError
from ocrmp.ocr.errors import DocumentError, _Named


class OutputNeedsPdf(DocumentError):
    """is an image, not a PDF: a searchable PDF is made from a PDF's own pages; ask for
    alto or hocr, or give the scan as a PDF."""


class OutputNotWritten(_Named, TransientJobError):
    """could not be written beside its document in storage; the job will be retried."""
