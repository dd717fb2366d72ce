"""Tiny real documents for the commands that check files at the door (`ocrmp enqueue`)."""

from __future__ import annotations

import functools
import io

from PIL import Image


@functools.cache  # the same bytes for the same seed (a PDF carries its creation time)
def document(seed: int = 0, format: str = "PDF") -> bytes:  # noqa: A002 - PIL's word
    """A real one-page document (a tiny scan), its content unique to seed."""
    image = Image.new("L", (16, 16), 255)
    image.putpixel((seed % 16, seed // 16 % 16), 0)
    out = io.BytesIO()
    image.save(out, format=format)
    return out.getvalue()
