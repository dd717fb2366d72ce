"""hOCR: the document's pages as XHTML, each an `ocr_page` holding one `ocr_carea` and
`ocr_par` of its lines in reading order (`ocr_line`), every word an `ocrx_word` with its
`bbox` (pixels of the scan as stored) and `x_wconf`.

hOCR's `textangle` is counter-clockwise degrees: on a page that was read turned, each
line says how far its text is turned on the scan.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from ocrmp import __version__
from ocrmp.ocr.pipeline import OcrResult
from ocrmp.ocr.result import PageResult
from ocrmp.outputs.words import PlacedLine, around, page_lines
from ocrmp.outputs.xml import element, serialise

DOCTYPE = ('<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN" '
           '"http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">')
CAPABILITIES = "ocr_page ocr_carea ocr_par ocr_line ocrx_word ocrp_wconf"


def hocr(result: OcrResult, source: str, lang: str = "fr") -> bytes:
    root = element(None, "html", xmlns="http://www.w3.org/1999/xhtml",
                   **{"xml:lang": lang}, lang=lang)
    head = element(root, "head")
    element(head, "title", source)
    element(head, "meta", **{"http-equiv": "Content-Type"},
            content="text/html;charset=utf-8")
    element(head, "meta", name="ocr-system", content=f"ocrmp {__version__}")
    element(head, "meta", name="ocr-capabilities", content=CAPABILITIES)
    body = element(root, "body")
    for page in result.page_results:
        _page(body, page, source)
    return serialise(root, DOCTYPE)


def _page(body: ET.Element, page: PageResult, source: str) -> None:
    n = page.index + 1
    image = source.replace('"', "'")
    node = element(body, "div", class_="ocr_page", id=f"page_{n}",
                   title=f'image "{image}"; bbox 0 0 {page.width} {page.height}; '
                         f"ppageno {page.index}; scan_res {round(page.dpi)} {round(page.dpi)}")
    lines = list(page_lines(page))
    if not lines:
        return
    box = _bbox(around(line.box for line in lines))
    area = element(node, "div", class_="ocr_carea", id=f"block_{n}", title=box)
    paragraph = element(area, "p", class_="ocr_par", id=f"par_{n}", title=box)
    angle = page.geometry.rotation_deg
    for i, line in enumerate(lines, 1):
        _line(paragraph, line, f"{n}_{i}", angle)


def _line(paragraph: ET.Element, line: PlacedLine, ident: str, angle: int) -> None:
    title = _bbox(line.box) + (f"; textangle {angle}" if angle else "")
    node = element(paragraph, "span", class_="ocr_line", id=f"line_{ident}", title=title)
    for j, word in enumerate(line.words, 1):
        span = element(node, "span", word.text, class_="ocrx_word", id=f"word_{ident}_{j}",
                       title=f"{_bbox(word.box)}; x_wconf {word.conf}")
        span.tail = " " if j < len(line.words) else None


def _bbox(box: tuple[int, int, int, int]) -> str:
    return "bbox {} {} {} {}".format(*box)
