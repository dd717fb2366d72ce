"""The other pages of a deed's file: letters, verse, text in columns, reports.

A registry file holds more than the deed: the notary's covering letter, a report with its
dates in the margin, an essay set in two or three columns, now and then a poem. Each
layout draws an upright grey page and returns its truth in reading order: top to bottom,
a column read whole before the next (so no line of the truth crosses a gutter), a margin
label with the line beside it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from ocrmp.corpus import text as words
from ocrmp.corpus.fonts import font
from ocrmp.corpus.layout import draw_line, font_px, page_shape, wrap

Rng = np.random.Generator
Box = tuple[int, int, int, int]
Drawn = tuple[np.ndarray, str, Box]
LINE_STEP = 1.45

LETTER_PARAGRAPHS = (
    "Nous accusons réception de votre lettre du {jour} {mois} concernant l'immeuble situé "
    "au {civique}, {rue}, à {ville2}, et vous en remercions.",
    "Vous trouverez ci-joint copie de l'acte publié sous le numéro {numero}, ainsi que "
    "l'état certifié des droits inscrits contre le lot {lot}.",
    "Le prix convenu de {prix} $ sera remis au vendeur lors de la signature, après "
    "vérification des titres au bureau de la publicité des droits de {circonscription}.",
    "Nous vous prions de nous faire parvenir vos instructions au plus tard le {jour} "
    "{mois} {annee}, afin que l'acte puisse être signé dans les délais prévus.",
)
CLOSINGS = (
    "Veuillez agréer, Maître, l'expression de nos sentiments distingués.",
    "Nous vous prions d'agréer, Madame, Monsieur, nos salutations les meilleures.",
)
SALUTATIONS = ("Maître,", "Madame, Monsieur,", "Cher confrère,", "Monsieur le notaire,")
SUBJECTS = ("Objet : vente du lot {lot}", "Objet : quittance, acte {numero}",
            "Objet : votre dossier {minute}")
# Short lines of the kind a parish bulletin prints: the stanzas are drawn from them.
VERSE = (
    "Au bord de la rivière", "le vieux moulin se tait,", "la neige sur les champs",
    "efface nos sentiers.", "Les cloches de l'église", "sonnent pour les absents,",
    "et le vent de l'automne", "emporte nos vingt ans.", "Mon père a bâti la grange",
    "de ses mains, pierre à pierre;", "ma mère a planté l'érable", "au coin de la barrière.",
    "Sous le toit de tôle", "la pluie chante tout bas,", "on entend dans la côte",
    "le pas lent des chevaux.", "Les terres de la paroisse", "descendent vers le fleuve,",
    "longues comme des rubans", "que le printemps abreuve.", "Quand viendra la débâcle",
    "nous irons sur le quai", "voir passer les glaces", "et les goélands gais.",
)
VERSE_TITLES = ("Le rang", "Chanson du fleuve", "Souvenir", "La terre paternelle")
HEADINGS = ("Désignation", "Origine du droit", "Charges", "Prix", "Observations")
MARGIN_LABELS = ("Lot", "Prix", "Vendeur", "Acheteur", "Notaire", "Numéro", "Note")


@dataclass
class Pen:
    """A page being written: its canvas, the truth so far, its typewriter's strikes."""

    canvas: Image.Image
    strikes: Rng | None
    lines: list[str] = field(default_factory=list)

    def write(self, xy: tuple[float, float], line: str, face: ImageFont.FreeTypeFont,
              truth: str | None = None) -> None:
        draw_line(ImageDraw.Draw(self.canvas), xy, line, face, 0, self.strikes)
        self.lines.append(line if truth is None else truth)

    def drawn(self, box: Box) -> Drawn:
        image = np.asarray(self.canvas, dtype=np.uint8).copy()
        return image, "\n".join(self.lines), box


@dataclass(frozen=True)
class Sheet:
    """What every layout needs: the page's pixels, margins, faces and random draws."""

    rng: Rng
    dpi: int
    face: str
    size: str
    landscape: bool
    strikes: Rng | None

    @property
    def shape(self) -> tuple[int, int]:
        return page_shape(self.dpi, self.size, self.landscape)

    def body(self, points: float = 11.5, bold: bool = False) -> ImageFont.FreeTypeFont:
        return font(font_px(points, self.dpi), bold=bold, face=self.face)

    def pen(self) -> Pen:
        height, width = self.shape
        return Pen(Image.new("L", (width, height), 255), self.strikes)


def _step(face: ImageFont.FreeTypeFont) -> int:
    return round(LINE_STEP * face.size)


def _paragraphs(rng: Rng, templates: tuple[str, ...]) -> Iterator[str]:
    """Paragraphs from `templates` in turn, filled afresh on each round, without end."""
    while True:
        fields = words.deed_fields(rng)
        for template in templates:
            yield template.format(**fields)


def letter(sheet: Sheet) -> Drawn:
    """A covering letter: sender, date at the right, recipient, subject, salutation,
    paragraphs, closing and signature; most of its lines are short."""
    rng, dpi = sheet.rng, sheet.dpi
    pen, body = sheet.pen(), sheet.body()
    height, width = sheet.shape
    fields = words.deed_fields(rng)
    step, margin, y = _step(body), dpi, dpi
    sender = [f"Maître {fields['notaire']}", "Notaire", f"{fields['civique']}, {fields['rue']}",
              f"{fields['ville']} (Québec)"]
    for line in sender:
        pen.write((margin, y), line, body)
        y += step
    y += step
    dated = f"{fields['ville']}, le {fields['jour']} {fields['mois']} {fields['annee']}"
    pen.write((width - margin - body.getlength(dated), y), dated, body)
    y += 2 * step
    for line in (fields["acheteur"], f"{int(rng.integers(1, 999))}, "
                 f"{words.pick(rng, words.STREETS)}", f"{fields['ville3']} (Québec)"):
        pen.write((margin, y), line, body)
        y += step
    y += step
    pen.write((margin, y), words.pick(rng, SUBJECTS).format(**fields), body)
    y += 2 * step
    pen.write((margin, y), words.pick(rng, SALUTATIONS), body)
    y += 2 * step
    paragraphs = _paragraphs(rng, LETTER_PARAGRAPHS)
    for _ in range(int(rng.integers(2, 5))):
        for line in wrap(next(paragraphs), body, width - 2 * margin):
            pen.write((margin, y), line, body)
            y += step
        y += step // 2
    y += step // 2
    for line in wrap(words.pick(rng, CLOSINGS), body, width - 2 * margin):
        pen.write((margin, y), line, body)
        y += step
    y += 2 * step
    signer = (width + margin) // 2
    pen.write((signer, y), fields["notaire"], body)
    if y + step > height - margin // 2:
        raise ValueError(f"a letter does not fit a page at {dpi} dpi")
    return pen.drawn((margin, margin, width - margin, y + step))


def verse(sheet: Sheet) -> Drawn:
    """A poem: a title, stanzas of four short lines with a blank line between them."""
    rng, dpi = sheet.rng, sheet.dpi
    pen, body = sheet.pen(), sheet.body(12)
    height, width = sheet.shape
    step, y = _step(body), dpi
    indent = dpi * float(rng.uniform(1.0, 2.2))
    title = words.pick(rng, VERSE_TITLES)
    title_face = sheet.body(14, bold=True)
    pen.write((indent, y), title, title_face)
    y += 3 * step
    stanzas = int(rng.integers(3, 6))
    start = int(rng.integers(len(VERSE) // 4)) * 4
    for n in range(stanzas):
        for i in range(4):
            line = VERSE[(start + 4 * n + i) % len(VERSE)]
            pen.write((indent, y), line, body)
            y += step
        y += step
    author = f"{words.person(rng)}"
    pen.write((width - dpi - body.getlength(author), y), author, body)
    if y + step > height - dpi // 2:
        raise ValueError(f"a poem does not fit a page at {dpi} dpi")
    return pen.drawn((round(indent), dpi, width - dpi, y + step))


def columns(sheet: Sheet, count: int) -> Drawn:
    """Running text in `count` columns separated by a gutter, sometimes under a title set
    across them; the truth reads the title, then each column top to bottom."""
    rng, dpi = sheet.rng, sheet.dpi
    pen, body = sheet.pen(), sheet.body(11 if count == 2 else 10)
    height, width = sheet.shape
    margin, step = round(0.8 * dpi), _step(body)
    gutter = round(dpi * float(rng.uniform(0.25, 0.5)))
    column_w = (width - 2 * margin - (count - 1) * gutter) / count
    top = margin
    if rng.random() < 0.5:
        title_face = sheet.body(15, bold=True)
        title = words.pick(rng, words.DEED_TITLES)
        pen.write(((width - title_face.getlength(title)) / 2, top), title, title_face)
        top += 3 * step
    bottom = height - margin - step
    paragraphs = _paragraphs(rng, words.DEED_PARAGRAPHS)
    pending: list[str] = []
    for n in range(count):
        x, y = margin + n * (column_w + gutter), top
        while y <= bottom:
            if not pending:
                pending = [*wrap(next(paragraphs), body, column_w), ""]
            line = pending.pop(0)
            if line:
                pen.write((x, y), line, body)
                y += step
            elif y > top:
                y += step // 2  # a paragraph's end: half a line, never at a column's top
    return pen.drawn((margin, margin, width - margin, height - margin))


def report(sheet: Sheet) -> Drawn:
    """A report: a title, numbered headings, paragraphs indented from the left margin and,
    in that margin, a date or a label beside a paragraph's first line (read with it)."""
    rng, dpi = sheet.rng, sheet.dpi
    pen, body = sheet.pen(), sheet.body(11)
    height, width = sheet.shape
    margin, step = dpi, _step(body)
    label_face = sheet.body(10)
    text_x = margin + round(1.5 * dpi)
    heading_face = sheet.body(11.5, bold=True)
    title_face = sheet.body(14, bold=True)
    title = "RAPPORT SUR LES TITRES"
    pen.write(((width - title_face.getlength(title)) / 2, margin), title, title_face)
    y = margin + 3 * step
    paragraphs = _paragraphs(rng, words.DEED_PARAGRAPHS)
    for number, heading in enumerate(HEADINGS, 1):
        lines = wrap(next(paragraphs), body, width - margin - text_x)
        if y + (len(lines) + 2) * step > height - margin:
            break
        pen.write((margin, y), f"{number}. {heading}", heading_face)
        y += round(1.8 * step)
        label = _margin_label(rng)
        for i, line in enumerate(lines):
            if i == 0 and label:
                draw_line(ImageDraw.Draw(pen.canvas), (margin, y + body.size - label_face.size),
                          label, label_face, 0, pen.strikes)
                pen.write((text_x, y), line, body, truth=f"{label} {line}")
            else:
                pen.write((text_x, y), line, body)
            y += step
        y += step
    return pen.drawn((margin, margin, width - margin, y))


def _margin_label(rng: Rng) -> str:
    """A date or a one-word label for the margin, or none."""
    draw = rng.random()
    if draw < 0.2:
        return ""
    if draw < 0.6:
        return f"{int(rng.integers(1, 29))} {words.pick(rng, words.MONTHS_SHORT)} " \
               f"{int(rng.integers(1950, 2000))}"
    return words.pick(rng, MARGIN_LABELS)
