"""What a user keeps of a document's OCR, in the format they ask for: the text, the JSON
result, ALTO, hOCR or a searchable PDF (one module per format)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

from ocrmp.outputs.errors import OutputNeedsPdf

if TYPE_CHECKING:  # the settings read FORMATS without loading the OCR pipeline
    from ocrmp.ocr.pipeline import OcrResult

FORMATS = ("text", "json", "alto", "hocr", "pdf")
# What the pool can write beside a document in storage (the text and the JSON are in the
# queue's row already).
STORED = ("alto", "hocr", "pdf")
# What an output written beside its source adds to the source's name (without its suffix).
SUFFIXES = {"text": ".txt", "json": ".json", "alto": ".alto.xml", "hocr": ".hocr",
            "pdf": ".ocr.pdf"}


def render(fmt: str, result: OcrResult, *, source: str, document: bytes | Path) -> bytes:
    """`result` in format `fmt`; `document` is what was read (the PDF the text goes into)."""
    if fmt == "text":
        return result.text.encode("utf-8")
    if fmt == "json":
        data = {"source": source, **result.to_json()}
        return (json.dumps(data, ensure_ascii=False, indent=2) + "\n").encode("utf-8")
    if fmt == "alto":
        from ocrmp.outputs.alto import alto
        return alto(result, source)
    if fmt == "hocr":
        from ocrmp.outputs.hocr import hocr
        return hocr(result, source)
    if fmt == "pdf":
        if not is_pdf(document):
            raise OutputNeedsPdf(source)
        from ocrmp.outputs.pdf import searchable_pdf
        return searchable_pdf(document, result, source)
    raise ValueError(f"unknown output format {fmt!r}")


def is_pdf(document: bytes | Path) -> bool:
    if isinstance(document, bytes):
        head = document[:1024]
    else:
        with open(document, "rb") as file:
            head = file.read(1024)
    return b"%PDF-" in head
