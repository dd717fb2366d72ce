"""Hostile documents: small files that cost a renderer minutes or gigabytes.

Built in memory from a few repeated drawing operators, so they compress to kilobytes and
no such file is ever kept in the repository. The fault suite, the page tests and
`bench/hostile.py` all draw them from here.

    stroke_bomb(2_000_000)           # one page of two million strokes, ~200 KB
    stroke_pages(1999, 100_000)      # 1,999 pages sharing one 10 KB stream of strokes
    hidden_giants(20_000, count=2)   # two 20000² images drawn small on one page
    blank_pages(1999)                # 1,999 pages drawing nothing
    page_tree_bomb(2 * 2**30)        # a page tree inflating to 2 GB, flate in flate, ~4 KB
"""

from __future__ import annotations

import zlib
from collections.abc import Callable

# A4 in points.
_PAGE_W, _PAGE_H = 595, 842

# One stroke: a thick diagonal across the whole page, slow to rasterise at any dpi.
_STROKE = b"0 0 m 595 842 l S\n"


def _pdf(objects: list[bytes], padding: int = 0) -> bytes:
    """A PDF of these objects (numbered from 1; 1 is the catalog). Every object but the
    streams goes into one compressed object stream, indexed by a cross-reference stream,
    as PDF 1.5 allows: 1,999 page dictionaries then take a few kilobytes. With `padding`,
    that stream ends in so many spaces, compressed twice (a flate in a flate): what
    finds the pages inflates them all."""
    streams = [n for n, body in enumerate(objects, 1) if body.endswith(b"endstream")]
    packed = [n for n in range(1, len(objects) + 1) if n not in streams]
    bodies = [objects[n - 1] + b"\n" for n in packed]
    offsets = [sum(map(len, bodies[:i])) for i in range(len(bodies))]
    header = b" ".join(b"%d %d" % pair for pair in zip(packed, offsets, strict=True)) + b"\n"
    objstm, xref_number = len(objects) + 1, len(objects) + 2
    extra = b"/Type /ObjStm /N %d /First %d " % (len(packed), len(header))
    holder = (_padded_stream(header + b"".join(bodies), padding, extra) if padding
              else _stream(header + b"".join(bodies), extra=extra))
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    where: dict[int, int] = {}
    for number, body in [*((n, objects[n - 1]) for n in streams), (objstm, holder)]:
        where[number] = len(out)
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    where[xref_number] = len(out)
    rows = [b"\x00" + (0).to_bytes(4, "big") + b"\xff\xff"]
    for number in range(1, xref_number + 1):
        if number in where:
            rows.append(b"\x01" + where[number].to_bytes(4, "big") + b"\x00\x00")
        else:
            rows.append(b"\x02" + objstm.to_bytes(4, "big")
                        + packed.index(number).to_bytes(2, "big"))
    xref = _stream(b"".join(rows), extra=b"/Type /XRef /Size %d /W [1 4 2] /Root 1 0 R "
                                         % (xref_number + 1))
    out += b"%d 0 obj\n" % xref_number + xref + b"\nendobj\n"
    out += b"startxref\n%d\n%%%%EOF\n" % where[xref_number]
    return bytes(out)


def _stream(data: bytes, times: int = 1, extra: bytes = b"") -> bytes:
    """A Flate stream of `data` repeated `times` times, compressed piece by piece so a
    stream of gigabytes never sits in memory."""
    packer = zlib.compressobj(9)
    pieces = [packer.compress(data) for _ in range(times)]
    packed = b"".join(pieces) + packer.flush()
    return (b"<< /Length %d /Filter /FlateDecode %s>>\nstream\n" % (len(packed), extra)
            + packed + b"\nendstream")


def _padded_stream(data: bytes, padding: int, extra: bytes) -> bytes:
    """`data` and `padding` spaces, deflated, the result deflated again. The spaces are
    one block deflated once and repeated (each block stands alone after a full flush), so
    gigabytes of padding take a second to make."""
    piece = 1 << 24
    raw = zlib.compressobj(9, zlib.DEFLATED, -15)
    head = raw.compress(data) + raw.flush(zlib.Z_FULL_FLUSH)
    spaces = raw.compress(b" " * piece) + raw.flush(zlib.Z_FULL_FLUSH)
    rest = raw.compress(b" " * (padding % piece)) + raw.flush()
    check = zlib.adler32(data)
    for _ in range(padding // piece):
        check = zlib.adler32(b" " * piece, check)
    check = zlib.adler32(b" " * (padding % piece), check)
    inner = (b"\x78\xda" + head + spaces * (padding // piece) + rest
             + check.to_bytes(4, "big"))
    outer = zlib.compress(inner, 9)
    return (b"<< /Length %d /Filter [/FlateDecode /FlateDecode] %s>>\nstream\n"
            % (len(outer), extra) + outer + b"\nendstream")


def _document(pages: int, content: bytes, resources: bytes = b"<< >>",
              extra: tuple[bytes, ...] = (), padding: int = 0) -> bytes:
    """`pages` pages that all draw one content stream (object 3); `extra` objects are
    numbered from 4."""
    first_page = 4 + len(extra)
    kids = b" ".join(b"%d 0 R" % (first_page + n) for n in range(pages))
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [%s] /Count %d >>" % (kids, pages),
        content,
        *extra,
    ]
    page = (b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 %d %d] /Contents 3 0 R "
            b"/Resources %s >>" % (_PAGE_W, _PAGE_H, resources))
    objects += [page] * pages
    return _pdf(objects, padding)


def stroke_bomb(strokes: int = 2_000_000) -> bytes:
    """One page drawing `strokes` thick diagonals (2 million: about 200 KB)."""
    return stroke_pages(1, strokes)


def stroke_pages(pages: int = 1999, strokes: int = 100_000) -> bytes:
    """`pages` pages sharing one content stream of `strokes` strokes."""
    return _document(pages, _stream(b"20 w\n" + _STROKE * strokes))


def page_tree_bomb(inflated: int = 2 * 2**30) -> bytes:
    """One blank page whose page tree lies in an object stream that inflates, flate in
    flate, to `inflated` bytes (2 GB: about 4 KB)."""
    return _document(1, _stream(b""), padding=inflated)


def blank_pages(pages: int = 1999) -> bytes:
    """`pages` pages drawing nothing: a valid file of a few kilobytes."""
    return _document(pages, _stream(b""))


def hidden_giants(side: int = 20_000, count: int = 2) -> bytes:
    """One page drawing `count` gray images of side² pixels into a one-inch square each:
    the page renders small, the images decode huge."""
    names = b" ".join(b"/Im%d %d 0 R" % (n, 4 + n) for n in range(count))
    draws = b"".join(b"q 72 0 0 72 %d 72 cm /Im%d Do Q\n" % (72 + 100 * n, n)
                     for n in range(count))
    row = bytes([200]) * side
    image = _stream(row, side, b"/Type /XObject /Subtype /Image /Width %d /Height %d "
                                   b"/ColorSpace /DeviceGray /BitsPerComponent 8 "
                                   % (side, side))
    return _document(1, _stream(draws), b"<< /XObject << %s >> >>" % names,
                     extra=(image,) * count)


HOSTILE: dict[str, Callable[[], bytes]] = {
    "stroke-bomb.pdf": stroke_bomb,
    "stroke-page.pdf": lambda: stroke_pages(1, 100_000),
    "stroke-pages.pdf": stroke_pages,
    "hidden-giants.pdf": hidden_giants,
    "page-tree-bomb.pdf": page_tree_bomb,
    "blank-pages.pdf": blank_pages,
}
