"""Page sizes and text fitting, measured with the real font so the truth is what fits."""

from __future__ import annotations

import numpy as np
from PIL import ImageDraw, ImageFont

PAGE_SIZES = {"letter": (8.5, 11.0), "legal": (8.5, 14.0)}  # inches, portrait
PAGE_INCHES = PAGE_SIZES["letter"]  # the size of most of the registry's scans
_CONNECTORS = frozenset({"et", "à", "de", "du"})


def font_px(points: float, dpi: int) -> int:
    return round(points * dpi / 72)


def page_shape(dpi: int, size: str = "letter", landscape: bool = False) -> tuple[int, int]:
    """(height, width) in pixels of an upright page."""
    if size not in PAGE_SIZES:
        raise ValueError(f"unknown page size {size!r}; expected one of {', '.join(PAGE_SIZES)}")
    width, height = PAGE_SIZES[size]
    if landscape:
        width, height = height, width
    return round(height * dpi), round(width * dpi)


def wrap(text: str, font: ImageFont.FreeTypeFont, width: float) -> list[str]:
    """Greedy word wrap measured with the real font, so every drawn line fits."""
    lines: list[str] = []
    current = ""
    for word in text.split():
        candidate = f"{current} {word}" if current else word
        if current and font.getlength(candidate) > width:
            lines.append(current)
            current = word
        else:
            current = candidate
    if current:
        lines.append(current)
    return lines


def fit(text: str, font: ImageFont.FreeTypeFont, width: float) -> str:
    """Drop trailing words until `text` fits `width`; the truth is what was drawn."""
    words = text.split()
    while len(words) > 1 and font.getlength(" ".join(words)) > width:
        words.pop()
        # A cut that ends on "et" or "à" reads as a mistake; cut before it.
        while len(words) > 1 and words[-1] in _CONNECTORS:
            words.pop()
    return " ".join(words).rstrip(",")


def abbreviate(line: str, font: ImageFont.FreeTypeFont, width: float) -> str:
    """A line still too wide (one long word) shortened the way a clerk would: "Rétroces."."""
    if font.getlength(line) <= width:
        return line
    cut = line
    while len(cut) > 1 and font.getlength(cut.rstrip(" -,") + ".") > width:
        cut = cut[:-1]
    return cut.rstrip(" -,") + "."


def draw_line(
    draw: ImageDraw.ImageDraw,
    xy: tuple[float, float],
    text: str,
    font: ImageFont.FreeTypeFont,
    fill: int,
    strikes: np.random.Generator | None = None,
) -> None:
    """One line of text; with `strikes`, typed: each key hits a little lighter or off line.

    A typewriter's keys strike unevenly (worn ribbon, uneven force): the darkness of each
    character varies and some sit a pixel or two above or below the line.
    """
    if strikes is None:
        draw.text(xy, text, font=font, fill=fill)
        return
    x0, y0 = xy
    jitter = max(1, int(font.size) // 40)
    for i, char in enumerate(text):
        if char == " ":
            continue
        x = x0 + font.getlength(text[:i])
        y = y0 + int(strikes.integers(-jitter, jitter + 1))
        light = float(strikes.uniform(0.0, 0.45)) ** 2
        draw.text((x, y), char, font=font, fill=round(fill + (255 - fill) * light))
