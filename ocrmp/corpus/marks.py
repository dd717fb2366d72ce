"""Marks over or beside the text: rubber stamps, and handwriting-like pen strokes.

Handwriting here is not a font: it is a pen's path, loops of varying height joined along
a drifting, slanted baseline, which reads as cursive and gives tesseract nothing to
recognise, as real handwriting mostly does. Each function draws into a grey layer
(255 = no ink) and returns what it drew as a `Mark`.
"""

from __future__ import annotations

import math

import cv2
import numpy as np
from PIL import Image, ImageDraw

from ocrmp.corpus import text as words
from ocrmp.corpus.fonts import font
from ocrmp.corpus.page import Mark

Rng = np.random.Generator
Box = tuple[int, int, int, int]

STAMP_INKS = ("red", "blue", "violet", "black")
PEN_INKS = ("blue", "black")
_ROUND_RINGS = (
    "BUREAU DE LA PUBLICITÉ DES DROITS", "REGISTRE FONCIER DU QUÉBEC",
    "BIBLIOTHÈQUE NATIONALE", "GREFFE DU NOTAIRE",
)
_ROUND_CENTRES = ("R.F.", "REÇU", "QUÉBEC", "COPIE")
_BOX_TITLES = ("REÇU LE", "ENREGISTRÉ LE", "PUBLIÉ LE", "COPIE CONFORME")


def _stroke_px(dpi: int) -> int:
    return max(1, round(dpi / 110))


# --------------------------------------------------------------------------- handwriting


def _word_path(rng: Rng, x0: float, y0: float, height: float, letters: int) -> np.ndarray:
    """One cursive word: a trochoid whose loops vary, with the odd ascender or descender."""
    steps = letters * 16
    t = np.linspace(0.0, letters * 2 * math.pi, steps)
    amplitude = height * (0.35 + 0.15 * rng.standard_normal(letters).clip(-1.5, 1.5))
    for i in rng.choice(letters, size=max(1, letters // 4), replace=False):
        amplitude[i] *= float(rng.choice([2.2, -2.0]))  # l, h, b above; g, p, q below
    per_step = np.repeat(amplitude, 16)[:steps]
    advance = height * rng.uniform(0.55, 0.75)
    x = x0 + t / (2 * math.pi) * advance - 0.22 * height * np.sin(t)
    y = y0 - per_step * (1 - np.cos(t)) / 2
    slant = rng.uniform(0.15, 0.45)
    return np.stack([x + (y0 - y) * slant, y], axis=1)


def scribble(
    layer: np.ndarray, rng: Rng, box: Box, dpi: int, height: float | None = None
) -> int:
    """Handwriting-like words across `box`, line after line; returns the words drawn."""
    left, top, right, bottom = box
    height = height or dpi * rng.uniform(0.07, 0.11)
    y = top + 1.6 * height
    count = 0
    while y <= bottom - 0.3 * height:
        x = left + rng.uniform(0, height)
        drift = rng.uniform(-0.03, 0.03)
        while x < right - 2 * height:
            letters = int(rng.integers(2, 9))
            path = _word_path(rng, x, y + (x - left) * drift, height, letters)
            if path[:, 0].max() > right:
                break
            cv2.polylines(layer, [np.round(path).astype(np.int32)], False, 0,
                          _stroke_px(dpi), cv2.LINE_AA)
            x = path[:, 0].max() + rng.uniform(0.6, 1.2) * height
            count += 1
        y += rng.uniform(2.4, 3.0) * height
    return count


def signature(layer: np.ndarray, rng: Rng, box: Box, dpi: int) -> None:
    """A signature: a tall, fast word or two and a flourish under it."""
    left, top, right, bottom = box
    height = (bottom - top) * 0.35
    scribble(layer, rng, (left, top, right, bottom - round(0.3 * height)), dpi, height)
    xs = np.linspace(left, right, 80)
    ys = bottom - 0.3 * height + 0.25 * height * np.sin(np.linspace(0, math.pi, 80) +
                                                        rng.uniform(-0.5, 0.5))
    cv2.polylines(layer, [np.stack([xs, ys], axis=1).round().astype(np.int32)], False, 0,
                  _stroke_px(dpi), cv2.LINE_AA)


def pen_strokes(layer: np.ndarray, rng: Rng, box: Box, dpi: int) -> None:
    """Reader's marks over text: an underline, a tick, a line crossing a word out."""
    left, top, right, bottom = box
    width = _stroke_px(dpi)
    for _ in range(int(rng.integers(2, 5))):
        x = int(rng.integers(left, max(left + 1, right - dpi)))
        y = int(rng.integers(top, max(top + 1, bottom)))
        kind = int(rng.integers(3))
        if kind == 0:  # underline, slightly wavy
            xs = np.linspace(x, x + rng.uniform(0.8, 2.5) * dpi, 40)
            ys = y + dpi * 0.01 * np.sin(np.linspace(0, 6, 40))
            points = np.stack([xs, ys], axis=1)
        elif kind == 1:  # a tick in the margin or on a figure
            s = dpi * 0.12
            points = np.array([[x, y], [x + s * 0.4, y + s * 0.5], [x + s * 1.2, y - s * 0.6]])
        else:  # a word struck out
            points = np.array([[x, y], [x + rng.uniform(0.4, 1.2) * dpi, y + dpi * 0.02]])
        cv2.polylines(layer, [points.round().astype(np.int32)], False, 0, width, cv2.LINE_AA)


# --------------------------------------------------------------------------- stamps


def _text_on_ring(image: Image.Image, ring: str, radius: float, px: int) -> None:
    """Letters of `ring` around the top of a circle, each turned to follow it."""
    centre = image.size[0] / 2
    face = font(px, True, "sans")
    span = min(1.9 * math.pi, len(ring) * px * 0.75 / radius)
    for i, char in enumerate(ring):
        angle = -math.pi / 2 - span / 2 + span * (i + 0.5) / len(ring)
        glyph = Image.new("L", (2 * px, 2 * px), 0)
        ImageDraw.Draw(glyph).text((px / 2, px / 3), char, font=face, fill=255)
        glyph = glyph.rotate(-math.degrees(angle) - 90, resample=Image.Resampling.BICUBIC)
        x = centre + radius * math.cos(angle) - px
        y = centre + radius * math.sin(angle) - px
        image.paste(255, (round(x), round(y)), glyph)


def _round_stamp(rng: Rng, dpi: int) -> tuple[Image.Image, str]:
    size = round(dpi * rng.uniform(0.9, 1.3))
    image = Image.new("L", (size, size), 0)
    draw = ImageDraw.Draw(image)
    line = max(2, round(dpi / 80))
    draw.ellipse((line, line, size - line, size - line), outline=255, width=line)
    inner = round(size * 0.26)
    draw.ellipse((inner, inner, size - inner, size - inner), outline=255, width=max(1, line // 2))
    ring, centre = words.pick(rng, _ROUND_RINGS), words.pick(rng, _ROUND_CENTRES)
    px = max(8, round(size * 0.085))
    _text_on_ring(image, ring, size / 2 - line - px * 0.95, px)
    big = font(max(8, round(size * 0.13)), True, "serif")
    width = big.getlength(centre)
    draw.text(((size - width) / 2, size / 2 - big.size * 0.6), centre, font=big, fill=255)
    return image, f"{ring} {centre}"


def _box_stamp(rng: Rng, dpi: int) -> tuple[Image.Image, str]:
    date = words.modern_date(rng, 1960, 2023).text
    lines = [words.pick(rng, _BOX_TITLES), date, f"N° {words.registry_number(rng)}"]
    face = font(max(8, round(dpi * rng.uniform(0.09, 0.12))), True, "sans")
    pad = int(face.size) // 2
    width = round(max(face.getlength(line) for line in lines)) + 2 * pad
    height = round(len(lines) * face.size * 1.3) + 2 * pad
    image = Image.new("L", (width, height), 0)
    draw = ImageDraw.Draw(image)
    line_px = max(2, round(dpi / 90))
    draw.rounded_rectangle((0, 0, width - 1, height - 1), radius=pad, outline=255, width=line_px)
    for i, line in enumerate(lines):
        x = (width - face.getlength(line)) / 2
        draw.text((x, pad + i * face.size * 1.3), line, font=face, fill=255)
    return image, " ".join(lines)


def stamp(layer: np.ndarray, rng: Rng, at: tuple[int, int], dpi: int) -> tuple[Box, str]:
    """A rubber stamp, round or rectangular, inked unevenly and set at a slant."""
    image, said = (_round_stamp if rng.random() < 0.5 else _box_stamp)(rng, dpi)
    ink = np.asarray(image.rotate(rng.uniform(-25, 25), expand=True,
                                  resample=Image.Resampling.BILINEAR), np.float32) / 255
    # A stamp never inks evenly: a soft blotchy pressure map, stronger on one side.
    h, w = ink.shape
    blotch = cv2.resize(rng.uniform(0.35, 1.0, (max(2, h // 12), max(2, w // 12))), (w, h))
    pressure = (blotch * np.linspace(rng.uniform(0.6, 1.0), 1.0, w)[None, :]).astype(np.float32)
    darkness = ink * pressure * rng.uniform(0.7, 0.95)
    x, y = at
    y0, x0 = max(0, y), max(0, x)
    y1, x1 = min(layer.shape[0], y + h), min(layer.shape[1], x + w)
    if y1 <= y0 or x1 <= x0:
        return (x0, y0, x0, y0), said
    region = layer[y0:y1, x0:x1].astype(np.float32)
    cover = darkness[y0 - y:y1 - y, x0 - x:x1 - x]
    layer[y0:y1, x0:x1] = (region * (1 - cover)).astype(np.uint8)
    return (x0, y0, x1, y1), said


# --------------------------------------------------------------------------- placement


def _where(rng: Rng, box: Box) -> tuple[int, int]:
    left, top, right, bottom = box
    x = int(rng.integers(left, max(left + 1, right)))
    return x, int(rng.integers(top, max(top + 1, bottom)))


def _handwriting(layer: np.ndarray, rng: Rng, kind: str, page: Box, text: Box, dpi: int) -> Box:
    """One handwritten mark of `kind` placed where such marks go; returns its box."""
    left, top, right, bottom = text
    if kind == "signature":
        width, height = round(dpi * rng.uniform(1.4, 2.2)), round(dpi * rng.uniform(0.5, 0.8))
        x = right - width - int(rng.integers(0, dpi // 2))
        y = min(bottom + dpi // 8, page[3] - height - dpi // 10)
        box = (max(page[0], x), max(page[1], y), max(page[0], x) + width, max(page[1], y) + height)
        signature(layer, rng, box, dpi)
        return box
    if kind == "note":  # in the widest margin beside the text
        margin = max(left - page[0], page[2] - right)
        x0 = page[0] + dpi // 12 if left - page[0] >= page[2] - right else right + dpi // 12
        y0 = _where(rng, (top, top, top + 1, max(top + 1, bottom - dpi)))[1]
        width = max(dpi // 2, margin - dpi // 6)
        box = (x0, y0, x0 + width, y0 + round(dpi * rng.uniform(0.5, 1.0)))
        scribble(layer, rng, box, dpi, dpi * rng.uniform(0.06, 0.08))
        return box
    pen_strokes(layer, rng, text, dpi)
    return text


def decorate(
    shape: tuple[int, int], rng: Rng, dpi: int, text: Box, stamps: int, handwriting: int
) -> tuple[dict[str, np.ndarray], list[Mark]]:
    """Stamps and handwriting for a page whose text lies in `text`: layers by ink, records."""
    layers: dict[str, np.ndarray] = {}
    records: list[Mark] = []
    page = (0, 0, shape[1], shape[0])

    def layer(ink: str) -> np.ndarray:
        return layers.setdefault(ink, np.full(shape, 255, np.uint8))

    for _ in range(stamps):
        ink = words.pick(rng, STAMP_INKS)
        near = text if rng.random() < 0.6 else (text[0], page[1], text[2], text[1])
        box, said = stamp(layer(ink), rng, _where(rng, near), dpi)
        records.append(Mark("stamp", box, ink, said))
    kinds = ("signature", "note", "strokes")
    first = int(rng.integers(3))
    for i in range(handwriting):
        kind, ink = kinds[(first + i) % 3], words.pick(rng, PEN_INKS)
        records.append(Mark(kind, _handwriting(layer(ink), rng, kind, page, text, dpi), ink))
    return layers, records
