"""ALTO v4: the document's pages, each one block of its lines in reading order, every word
a String with its box (pixels of the scan as stored) and confidence.

ALTO's `ROTATION` is counter-clockwise degrees: a page that was read turned says how far
its text is turned on the scan.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from ocrmp import __version__
from ocrmp.ocr.pipeline import OcrResult
from ocrmp.ocr.result import PageResult
from ocrmp.outputs.words import PlacedLine, around, page_lines
from ocrmp.outputs.xml import element, serialise

NAMESPACE = "http://www.loc.gov/standards/alto/ns-v4#"
SCHEMA = "http://www.loc.gov/standards/alto/v4/alto-4-2.xsd"


def alto(result: OcrResult, source: str) -> bytes:
    root = element(None, "alto", xmlns=NAMESPACE,
                   **{"xmlns:xsi": "http://www.w3.org/2001/XMLSchema-instance",
                      "xsi:schemaLocation": f"{NAMESPACE} {SCHEMA}"})
    description = element(root, "Description")
    element(description, "MeasurementUnit", "pixel")
    image = element(description, "sourceImageInformation")
    element(image, "fileName", source)
    processing = element(element(description, "OCRProcessing", ID="OCR_0"),
                         "ocrProcessingStep")
    software = element(processing, "processingSoftware")
    element(software, "softwareName", "ocrmp")
    element(software, "softwareVersion", __version__)
    layout = element(root, "Layout")
    for page in result.page_results:
        _page(layout, page)
    return serialise(root)


def _page(layout: ET.Element, page: PageResult) -> None:
    n = page.index + 1
    node = element(layout, "Page", ID=f"page_{n}", PHYSICAL_IMG_NR=n, WIDTH=page.width,
                   HEIGHT=page.height, PC=f"{page.confidence / 100:.2f}")
    lines = list(page_lines(page))
    if not lines:
        element(node, "PrintSpace", HPOS=0, VPOS=0, WIDTH=page.width, HEIGHT=page.height)
        return
    space = element(node, "PrintSpace", **_position(around(line.box for line in lines)))
    extra = {"ROTATION": page.geometry.rotation_deg} if page.geometry.rotation_deg else {}
    block = element(space, "TextBlock", ID=f"block_{n}",
                    **_position(around(line.box for line in lines)), **extra)
    for i, line in enumerate(lines, 1):
        _line(block, line, f"{n}_{i}")


def _line(block: ET.Element, line: PlacedLine, ident: str) -> None:
    node = element(block, "TextLine", ID=f"line_{ident}", **_position(line.box))
    for j, word in enumerate(line.words, 1):
        if j > 1:
            element(node, "SP")
        element(node, "String", ID=f"string_{ident}_{j}", **_position(word.box),
                WC=f"{word.conf / 100:.2f}", CONTENT=word.text)


def _position(box: tuple[int, int, int, int]) -> dict[str, int]:
    x0, y0, x1, y1 = box
    return {"HPOS": x0, "VPOS": y0, "WIDTH": x1 - x0, "HEIGHT": y1 - y0}
