"""Words placed by hand, as the engine would give them: for the pure parts of the readers."""

from __future__ import annotations

from ocrmp.ocr.geometry import Box, LineKey, Word


def word(text: str, conf: float, left: int, top: int, width: int, height: int,
         key: LineKey = (1, 1, 1)) -> Word:
    return Word(text, conf, Box(left, top, left + width, top + height), key)
