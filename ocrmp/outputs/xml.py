"""The XML the outputs write: elements built with ElementTree, text XML can carry.

OCR text can hold characters XML 1.0 forbids (a control character read from a speck);
they are dropped, so a page's ALTO or hOCR is always well-formed.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def clean(text: str) -> str:
    """`text` without the characters XML 1.0 cannot hold."""
    return _FORBIDDEN.sub("", text)


def element(parent: ET.Element | None, tag: str, text: str | None = None, /,
            **attrs: object) -> ET.Element:
    """A new element (under `parent` when given) with its attributes as strings; a
    trailing underscore in a name is dropped (`class_`)."""
    values = {name.rstrip("_"): clean(str(value)) for name, value in attrs.items()}
    node = ET.Element(tag, values) if parent is None else ET.SubElement(parent, tag, values)
    if text is not None:
        node.text = clean(text)
    return node


def serialise(root: ET.Element, doctype: str = "") -> bytes:
    """The document as UTF-8 bytes with its XML declaration (and doctype), indented."""
    ET.indent(root, space=" ")
    body = ET.tostring(root, encoding="unicode")
    head = '<?xml version="1.0" encoding="UTF-8"?>\n' + (doctype + "\n" if doctype else "")
    return (head + body + "\n").encode("utf-8")
