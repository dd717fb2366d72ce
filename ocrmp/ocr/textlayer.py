"""A PDF page's own text, taken instead of recognising the page when it is born digital.

`OCRMP_TEXT_LAYER=use` (the default is `ignore`) takes the text of a page that carries
visible text and is not a scan: no image covers half of it. Invisible text (render mode
3) is what an earlier OCR left over a scan, and is never a reason to skip recognition;
a scan with a typed header added is still a scan. OCRmyPDF's `--skip-text` does the
like.
"""

from __future__ import annotations

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c

SCAN_COVER = 0.5  # an image covering this share of the page makes it a scan


def visible_text(page: pdfium.PdfPage) -> str | None:
    """The page's text if it is born digital, else None (recognise it)."""
    width, height = page.get_size()
    visible = False
    covered = 0.0
    for obj in page.get_objects(max_depth=2):
        try:
            if obj.type == pdfium_c.FPDF_PAGEOBJ_TEXT:
                mode = pdfium_c.FPDFTextObj_GetTextRenderMode(obj.raw)
                visible = visible or mode != pdfium_c.FPDF_TEXTRENDERMODE_INVISIBLE
            elif obj.type == pdfium_c.FPDF_PAGEOBJ_IMAGE:
                left, bottom, right, top = obj.get_bounds()
                covered = max(covered, (right - left) * (top - bottom) / (width * height))
        finally:
            obj.close()
    if not visible or covered >= SCAN_COVER:
        return None
    textpage = page.get_textpage()
    try:
        text = textpage.get_text_range()
    finally:
        textpage.close()
    # pdfium ends lines with CR LF; the pipeline's pages use LF.
    text = text.replace("\r\n", "\n").replace("\r", "\n").strip()
    return text or None
