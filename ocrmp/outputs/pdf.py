"""A searchable PDF: the source PDF's pages as they are, each with an invisible text layer.

The pages' own content is not touched (not decoded, not re-encoded): it is wrapped in a
q/Q pair, so whatever state it leaves cannot move the text, and the text layer follows in
a stream of its own. The text is drawn in render mode 3 (neither filled nor stroked) in
one font made here: a Type 3 font whose every glyph is empty and half an em wide, with a
ToUnicode map, so that any viewer selects, searches and copies the words. Each word is
placed on its box, a line's words on one baseline, the font's size their height, each
word's horizontal scale stretching it (and its space) to its box (`_line_ops`).

Boxes are pixels of the page as it was read (its `width` x `height`, the page as a viewer
shows it: crop box, /Rotate applied). They are turned into the page's own space by one
matrix per page; on a page whose scan was turned, the text runs along the scan's lines.
"""

from __future__ import annotations

import io
import math
import statistics
import zlib
from pathlib import Path

import pikepdf
from pikepdf import Array, Dictionary, Name

from ocrmp.ocr.errors import CorruptDocument, EncryptedDocument
from ocrmp.ocr.pipeline import OcrResult
from ocrmp.ocr.result import PageResult
from ocrmp.outputs.words import PlacedLine, page_lines

GLYPH_WIDTH = 500  # thousandths of an em: every glyph of the text font
DESCENT = 0.2  # of the font's size: the baseline is this far above a word's bottom
WORD_SPACE = 1.5  # of the font's size: a wider gap between two words is not a word space
ENCODING = "cp1252"  # one byte per character: every letter of French and English


def searchable_pdf(document: bytes | Path, result: OcrResult, source: str) -> bytes:
    """The PDF `document` with `result`'s words as its invisible text."""
    with _open(document, source) as pdf:
        font = _text_font(pdf)
        for page, read in zip(pdf.pages, result.page_results, strict=False):
            lines = list(page_lines(read))
            if lines:
                _add_text(pdf, page, read, lines, font)
        out = io.BytesIO()
        # The pages' own streams are copied as they are: no image is decoded or re-encoded,
        # nothing stored uncompressed is compressed (the text layer's own streams are).
        pdf.save(out, compress_streams=False,
                 stream_decode_level=pikepdf.StreamDecodeLevel.none,
                 object_stream_mode=pikepdf.ObjectStreamMode.preserve)
        return out.getvalue()


def _open(document: bytes | Path, source: str) -> pikepdf.Pdf:
    try:
        return pikepdf.open(io.BytesIO(document) if isinstance(document, bytes) else document)
    except pikepdf.PasswordError:
        raise EncryptedDocument(source) from None
    except pikepdf.PdfError as exc:
        raise CorruptDocument(source, str(exc).splitlines()[0][:200]) from None


def _text_font(pdf: pikepdf.Pdf) -> pikepdf.Object:
    empty = pdf.make_stream(f"{GLYPH_WIDTH} 0 0 -200 {GLYPH_WIDTH} 800 d1".encode())
    return pdf.make_indirect(Dictionary(
        Type=Name.Font, Subtype=Name.Type3, Name=Name.OcrText,
        FontBBox=Array([0, -200, GLYPH_WIDTH, 800]), FontMatrix=Array([0.001, 0, 0, 0.001, 0, 0]),
        CharProcs=Dictionary(g=empty), Resources=Dictionary(),
        Encoding=Dictionary(Type=Name.Encoding, Differences=Array([0, *[Name.g] * 256])),
        FirstChar=0, LastChar=255, Widths=Array([GLYPH_WIDTH] * 256),
        ToUnicode=pdf.make_stream(zlib.compress(_to_unicode(), 9), Filter=Name.FlateDecode)))


def _to_unicode() -> bytes:
    """The CMap from the font's one-byte codes to Unicode, as `ENCODING` maps them."""
    pairs = []
    for code in range(256):
        char = bytes([code]).decode(ENCODING, errors="replace")
        if char != "\ufffd":
            pairs.append(f"<{code:02X}> <{ord(char):04X}>")
    chunks = [pairs[i:i + 100] for i in range(0, len(pairs), 100)]
    body = "\n".join(f"{len(chunk)} beginbfchar\n" + "\n".join(chunk) + "\nendbfchar"
                     for chunk in chunks)
    return ("/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n"
            "/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n"
            "/CMapName /OcrText-UCS def\n/CMapType 2 def\n"
            "1 begincodespacerange\n<00> <FF>\nendcodespacerange\n"
            f"{body}\nendcmap\nCMapName currentdict /CMap defineresource pop\nend\nend\n"
            ).encode("ascii")


def _add_text(pdf: pikepdf.Pdf, page: pikepdf.Page, read: PageResult,
              lines: list[PlacedLine], font: pikepdf.Object) -> None:
    if "/Resources" not in page.obj:
        # The page draws with its parent's resources: a dictionary of its own must hold
        # them too, or adding the font would hide them.
        inherited = _inherited(page, "/Resources")
        page.obj.Resources = Dictionary(dict(inherited.items()) if inherited is not None
                                        else {})
    name = page.add_resource(font, Name.Font, prefix="OcrText")
    shown = _shown_to_user(page)
    width, height = (shown[0], shown[1])
    pixels = _Pixels(read.width, read.height, width, height, read.geometry.rotation_deg)
    ops = [f"q {_numbers(shown[2])} cm BT 3 Tr"]
    for line in lines:
        ops.extend(_line_ops(line, pixels, str(name)))
    ops.append("ET Q")
    page.contents_add(pdf.make_stream(b"q\n"), prepend=True)
    text = ("Q\n" + "\n".join(ops) + "\n").encode("latin-1")
    page.contents_add(pdf.make_stream(zlib.compress(text, 9), Filter=Name.FlateDecode))


class _Pixels:
    """Pixels of the page as shown (y down) seen along its text lines: a word's start and
    length along the line (`along`), its place across it (`down`, the way the letters'
    feet point), both pixels; and the points of the page as shown (y up) they make.
    `angle` is how far the scan's text is turned counter-clockwise."""

    def __init__(self, px_w: int, px_h: int, pt_w: float, pt_h: float, angle: int) -> None:
        self.sx, self.sy, self.pt_h = pt_w / px_w, pt_h / px_h, pt_h
        a = math.radians(angle)
        self.along = (round(math.cos(a)), round(-math.sin(a)))
        self.down = (round(math.sin(a)), round(math.cos(a)))

    def span(self, box: tuple[int, int, int, int], axis: tuple[int, int]) -> tuple[float, float]:
        """Where the box starts and ends along an axis, in pixels."""
        x0, y0, x1, y1 = box
        ends = (axis[0] * x0 + axis[1] * y0, axis[0] * x1 + axis[1] * y1)
        return min(ends), max(ends)

    def point(self, along: float, down: float) -> tuple[float, float]:
        x = along * self.along[0] + down * self.down[0]
        y = along * self.along[1] + down * self.down[1]
        return x * self.sx, self.pt_h - y * self.sy

    def points(self, axis: tuple[int, int]) -> float:
        """Points per pixel along an axis."""
        return self.sx if axis[0] else self.sy


def _line_ops(line: PlacedLine, pixels: _Pixels, font: str) -> list[str]:
    """One line: placed once, on one straight baseline at its words' middle height (on a
    skewed scan words that followed the skew would be read as several lines), each word
    moved along it from the one before and stretched to its box, with the space after it
    up to the next word (readers take text with gaps inside a line for columns)."""
    words = [w for w in line.words if w.text]
    across = [pixels.span(w.box, pixels.down) for w in words]
    size_px = statistics.median(end - start for start, end in across) if words else 0
    if size_px <= 0:
        return []
    middle = statistics.median((start + end) / 2 for start, end in across)
    size = size_px * pixels.points(pixels.down)
    along = pixels.points(pixels.along)
    ux, uy = pixels.along[0], -pixels.along[1]  # reading direction, points, y up
    vx, vy = -uy, ux  # the letters' up
    spans = [pixels.span(w.box, pixels.along) for w in words]
    x, y = pixels.point(spans[0][0], middle + (0.5 - DESCENT) * size_px)
    ops = [f"{font} {size:.2f} Tf {_numbers((ux, uy, vx, vy, x, y))} Tm"]
    for i, word in enumerate(words):
        start, end = spans[i]
        text, reach = word.text, end
        # A word's space reaches the next word when it is a word space; a wider gap (a
        # mark read as a word far off) is left as it is, not covered by a stretched word.
        if i + 1 < len(words) and spans[i + 1][0] - end <= WORD_SPACE * size_px:
            text, reach = text + " ", max(end, spans[i + 1][0])
        natural = len(text) * GLYPH_WIDTH / 1000 * size
        move = f"{(start - spans[i - 1][0]) * along:.2f} 0 Td " if i else ""
        ops.append(f"{move}{100 * (reach - start) * along / natural:.2f} Tz "
                   f"<{_encoded(text)}> Tj")
    return ops


def _encoded(text: str) -> str:
    return text.encode(ENCODING, errors="replace").hex().upper()


def _numbers(values: tuple[float, ...]) -> str:
    return " ".join(f"{v:.3f}".rstrip("0").rstrip(".") or "0" for v in values)


def _shown_to_user(page: pikepdf.Page) -> tuple[float, float, tuple[float, ...]]:
    """The page's size as shown (its crop box turned by /Rotate), and the matrix from
    points of the page as shown to the page's own space."""
    box = _inherited(page, "/CropBox", "/MediaBox")
    # A page without a box is drawn on US Letter by readers (pdfium as well).
    x0, y0, x1, y1 = (float(v) for v in (box if box is not None else (0, 0, 612, 792)))
    left, bottom, right, top = min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1)
    w, h = right - left, top - bottom
    rotate = int(_inherited(page, "/Rotate") or 0) % 360
    if rotate == 90:
        return h, w, (0, 1, -1, 0, left + w, bottom)
    if rotate == 180:
        return w, h, (-1, 0, 0, -1, left + w, bottom + h)
    if rotate == 270:
        return h, w, (0, -1, 1, 0, left, bottom + h)
    return w, h, (1, 0, 0, 1, left, bottom)


def _inherited(page: pikepdf.Page, *keys: str) -> pikepdf.Object | None:
    """The first of `keys` the page or one of its ancestors in the page tree has."""
    for key in keys:
        node: pikepdf.Object | None = page.obj
        while node is not None:
            if key in node:
                return node[key]
            node = node.get("/Parent")
    return None
