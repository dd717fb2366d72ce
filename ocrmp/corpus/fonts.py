"""Typefaces the generator prints with, each from a Debian font package.

A face is named by what it looks like on a scan (`courier`, `typewriter`, `sans`, ...), so a
test can ask for one; the files come from `/usr/share/fonts`, found by name wherever the
distribution puts them. A missing face is an error naming the apt package that holds it.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

from PIL import ImageFont

FONT_ROOT = Path("/usr/share/fonts")


class FontMissing(FileNotFoundError):
    """A typeface's file is not installed."""


@dataclass(frozen=True)
class Typeface:
    """One face: its files (regular, bold or None), the package holding them, its look."""

    name: str
    package: str
    regular: str
    bold: str | None
    typewriter: bool  # fixed pitch, typed: strikes vary in darkness and height
    lacks: str = ""  # glyphs of French registry text the face does not have


FACES: dict[str, Typeface] = {
    face.name: face
    for face in (
        Typeface("serif", "fonts-dejavu-core", "DejaVuSerif.ttf", "DejaVuSerif-Bold.ttf", False),
        Typeface("courier", "fonts-urw-base35", "NimbusMonoPS-Regular.otf",
                 "NimbusMonoPS-Bold.otf", True),
        Typeface("typewriter", "fonts-gnutypewriter", "GNUTypewriter.ttf", None, True, "°«»’"),
        Typeface("courier-prime", "fonts-courier-prime", "Courier Prime.otf",
                 "Courier Prime Bold.otf", True),
        Typeface("mono", "fonts-freefont-ttf", "FreeMono.ttf", "FreeMonoBold.ttf", True),
        Typeface("sans", "fonts-liberation2", "LiberationSans-Regular.ttf",
                 "LiberationSans-Bold.ttf", False),
        Typeface("times", "fonts-liberation2", "LiberationSerif-Regular.ttf",
                 "LiberationSerif-Bold.ttf", False),
        Typeface("schoolbook", "fonts-urw-base35", "C059-Roman.otf", "C059-Bold.otf", False),
        Typeface("condensed", "fonts-dejavu-extra", "DejaVuSerifCondensed.ttf",
                 "DejaVuSerifCondensed-Bold.ttf", False),
        Typeface("dejavu-sans", "fonts-dejavu-core", "DejaVuSans.ttf", "DejaVuSans-Bold.ttf",
                 False),
    )
}
TYPEWRITER_FACES = tuple(name for name, face in FACES.items() if face.typewriter)
PRINT_FACES = tuple(name for name, face in FACES.items() if not face.typewriter)


def apt_packages() -> list[str]:
    """The Debian packages that hold every face, for the Makefile and error messages."""
    return sorted({face.package for face in FACES.values()})


@cache
def _installed() -> dict[str, Path]:
    return {path.name: path for path in sorted(FONT_ROOT.rglob("*")) if path.is_file()}


def typeface(name: str) -> Typeface:
    if name not in FACES:
        raise ValueError(f"unknown typeface {name!r}; expected one of {', '.join(FACES)}")
    return FACES[name]


def font_path(bold: bool = False, face: str = "serif") -> Path:
    """The file of `face` (bold when it has one); FontMissing names the apt package."""
    chosen = typeface(face)
    name = chosen.bold if bold and chosen.bold else chosen.regular
    path = _installed().get(name)
    if path is None:
        raise FontMissing(
            f"font file {name} of typeface {face!r} is not installed under {FONT_ROOT}; "
            f"install the apt package {chosen.package} (make test installs it)"
        )
    return path


@cache
def font(px: int, bold: bool = False, face: str = "serif") -> ImageFont.FreeTypeFont:
    """`face` at `px` pixels per em."""
    return ImageFont.truetype(str(font_path(bold, face)), px)


def draws_all(face: str, text: str) -> bool:
    """False when `text` holds a glyph the face lacks (GNU Typewriter has no degree sign)."""
    return not set(typeface(face).lacks) & set(text)
