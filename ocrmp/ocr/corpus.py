"""Synthetic land-registry pages with ground truth, and the ground-truth utilities.

Real scans cannot live in the repository, so tests and benchmarks draw their own: deeds
(`acte`) and ruled ledgers (`index`) in French registry language, printed with a TrueType
font at scan resolution, optionally degraded the way old scans are. Everything is a pure
function of the seed, so a failing test names the page that broke it.

Skew convention, shared with `ocrmp.ocr.preprocess`: a positive angle means the content is
rotated counter-clockwise as seen on screen (OpenCV's convention).
"""

from __future__ import annotations

import argparse
import io
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from itertools import pairwise
from pathlib import Path

import cv2
import numpy as np
import pypdfium2 as pdfium
from PIL import Image, ImageDraw, ImageFont

PAGE_INCHES = (8.5, 11.0)  # letter, the size of the registry's scans
INDEX_HEADER = ("Date", "Nature de l'acte", "Parties", "Numéro", "Remarques")
INDEX_KEYS = ("date", "nature", "parties", "numero", "remarques")
# Share of the table width per column, in INDEX_HEADER order.
INDEX_COLUMN_SHARES = (0.13, 0.22, 0.39, 0.13, 0.13)
CELL_SEPARATOR = " | "
_CONNECTORS = frozenset({"et", "à", "de", "du"})

_FONT_DIRS = (
    Path("/usr/share/fonts/truetype/dejavu"),
    Path("/usr/share/fonts/truetype/liberation"),
    Path("/usr/share/fonts/truetype/liberation2"),
    Path("/usr/share/fonts/dejavu"),
)
_FONT_FILES = {
    False: ("DejaVuSerif.ttf", "LiberationSerif-Regular.ttf"),
    True: ("DejaVuSerif-Bold.ttf", "LiberationSerif-Bold.ttf"),
}


@dataclass(frozen=True)
class GeneratedPage:
    """A page image and what was drawn on it."""

    image: np.ndarray
    text: str
    kind: str
    rows: list[dict[str, str]]
    skew_deg: float


# --------------------------------------------------------------------------- word lists

SURNAMES = (
    "Tremblay", "Gagnon", "Roy", "Côté", "Bouchard", "Gauthier", "Morin", "Lavoie",
    "Fortin", "Gagné", "Ouellet", "Pelletier", "Bélanger", "Lévesque", "Bergeron",
    "Leblanc", "Paquette", "Girard", "Simard", "Boucher", "Caron", "Beaulieu", "Cloutier",
    "Dubé", "Poirier", "Fournier", "Lapointe", "Leclerc", "Lefebvre", "Poulin", "Thibault",
    "Nadeau", "Martel", "Bédard", "Grenier", "Lessard", "Bernier", "Michaud", "Hébert",
    "Desjardins", "Couture", "Turcotte", "Lachance", "Gosselin", "Proulx", "Ménard",
    "Thériault", "Brisson", "Francœur",
)
GIVEN_NAMES = (
    "Jean", "Marie", "François", "Hélène", "Josée", "André", "Gérard", "Thérèse", "Benoît",
    "Stéphane", "Françoise", "Céline", "Réjean", "Gaétan", "Noël", "Édouard", "Geneviève",
    "Mélanie", "Jérôme", "Amélie", "Rémi", "Chloé", "Aurélie", "Raphaël", "Joël", "Lucie",
    "Pierre", "Louise", "Jacques", "Nicole",
)
PLACES = (
    "Montréal", "Québec", "Laval", "Sherbrooke", "Trois-Rivières", "Lévis", "Gatineau",
    "Rimouski", "Chicoutimi", "Saint-Hyacinthe", "Drummondville", "Joliette", "Terrebonne",
    "Rivière-du-Loup", "Sept-Îles", "Baie-Comeau", "Saint-Jérôme", "Granby", "Val-d'Or",
)
STREETS = (
    "rue Saint-Jean", "rue des Érables", "chemin du Côteau", "boulevard Champlain",
    "rue de l'Église", "avenue du Séminaire", "rue Notre-Dame", "rang Sainte-Thérèse",
    "rue Principale", "chemin de la Rivière",
)
MONTHS = (
    "janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre",
    "octobre", "novembre", "décembre",
)
DEED_TITLES = (
    "ACTE DE VENTE", "ACTE DE DONATION", "ACTE D'HYPOTHÈQUE", "ACTE DE SERVITUDE",
    "ACTE DE CESSION",
)
NATURES = (
    "Vente", "Hypothèque", "Donation", "Servitude", "Quittance", "Cession", "Bail",
    "Radiation", "Transmission", "Préavis", "Déclaration", "Échange",
)
REMARKS = ("", "", "", "Radiée", "Partielle", "Réduite", "Voir {numero}", "Corrigée")

# Deed paragraphs, in the order a notary writes them; `_fill` supplies the fields.
DEED_PARAGRAPHS = (
    "Le {jour} {mois} {annee}, par-devant Maître {notaire}, notaire à {ville}, province "
    "de Québec, a comparu {vendeur}, domicilié au {civique}, {rue}, à {ville2}, ci-après "
    "appelé le vendeur.",
    "Lequel vend à {acheteur}, domiciliée à {ville3}, ici présente et acceptant, ci-après "
    "appelée l'acheteur, l'immeuble dont la désignation suit.",
    "Un immeuble connu et désigné comme étant le lot numéro {lot} du cadastre du Québec, "
    "circonscription foncière de {circonscription}, avec la bâtisse dessus construite "
    "portant le numéro civique {civique}, {rue}, à {ville2}.",
    "Le vendeur déclare que l'immeuble est libre de toute hypothèque, priorité ou charge, "
    "à l'exception des servitudes apparentes, et qu'il a été reçu par lui aux termes "
    "d'un acte publié sous le numéro {numero}.",
    "Cette vente est faite pour le prix de {prix} $, que le vendeur reconnaît avoir reçu "
    "de l'acheteur, dont quittance totale et finale. Le droit de mutation est établi sur "
    "une base d'imposition de {prix} $.",
    "L'acheteur reconnaît avoir examiné l'immeuble et avoir fait son propre contrôle des "
    "titres au dépôt du registre foncier; il prend possession de l'immeuble à compter de "
    "ce jour et paiera les taxes foncières à compter de la date des présentes.",
    "Le vendeur déclare être résident canadien au sens de la Loi de l'impôt sur le revenu, "
    "n'être pas en état de faillite et que la façade de la bâtisse est conforme aux "
    "règlements de la municipalité de {ville2}.",
    "Les frais et honoraires du présent acte sont à la charge de l'acheteur, ainsi que le "
    "coût de sa publication au bureau de la publicité des droits de {circonscription}.",
    "Dont acte fait et passé à {ville}, sous le numéro {minute} des minutes du notaire "
    "soussigné. Lecture faite, les parties signent en présence du notaire, qui reçoit "
    "leur consentement et leur remet copie conforme.",
)


# --------------------------------------------------------------------------- helpers


def _pick(rng: np.random.Generator, items: Sequence[str]) -> str:
    return items[int(rng.integers(len(items)))]


def _person(rng: np.random.Generator) -> str:
    return f"{_pick(rng, GIVEN_NAMES)} {_pick(rng, SURNAMES)}"


def _registry_number(rng: np.random.Generator) -> str:
    """A 7-digit number grouped by thousands with spaces, as the registry prints them."""
    return f"{int(rng.integers(1_000_000, 9_999_999)):,}".replace(",", " ")


def _price(rng: np.random.Generator) -> str:
    return f"{int(rng.integers(40, 900)) * 1000:,}".replace(",", " ")


def _deed_fields(rng: np.random.Generator) -> dict[str, str]:
    return {
        "jour": str(int(rng.integers(1, 29))),
        "mois": _pick(rng, MONTHS),
        "annee": str(int(rng.integers(1950, 2024))),
        "notaire": _person(rng),
        "vendeur": _person(rng),
        "acheteur": _person(rng),
        "ville": _pick(rng, PLACES),
        "ville2": _pick(rng, PLACES),
        "ville3": _pick(rng, PLACES),
        "circonscription": _pick(rng, PLACES),
        "rue": _pick(rng, STREETS),
        "civique": str(int(rng.integers(1, 9999))),
        "lot": _registry_number(rng),
        "numero": _registry_number(rng),
        "prix": _price(rng),
        "minute": f"{int(rng.integers(100, 40000)):,}".replace(",", " "),
    }


@cache
def font_path(bold: bool = False) -> Path:
    """A serif TrueType font that tesseract reads like print (fonts-dejavu-core)."""
    for directory in _FONT_DIRS:
        for name in _FONT_FILES[bold]:
            if (directory / name).is_file():
                return directory / name
    raise FileNotFoundError(
        "no DejaVu or Liberation serif font found; install the apt package fonts-dejavu-core"
    )


@cache
def _font(px: int, bold: bool = False) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(font_path(bold)), px)


def _font_px(points: float, dpi: int) -> int:
    return round(points * dpi / 72)


def _page_shape(dpi: int) -> tuple[int, int]:
    return round(PAGE_INCHES[1] * dpi), round(PAGE_INCHES[0] * dpi)


def _wrap(text: str, font: ImageFont.FreeTypeFont, width: float) -> list[str]:
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


def _fit(text: str, font: ImageFont.FreeTypeFont, width: float) -> str:
    """Drop trailing words until `text` fits `width`; the truth is what was drawn."""
    words = text.split()
    while len(words) > 1 and font.getlength(" ".join(words)) > width:
        words.pop()
        # A cut that ends on "et" or "à" reads as a mistake; cut before it.
        while len(words) > 1 and words[-1] in _CONNECTORS:
            words.pop()
    return " ".join(words).rstrip(",")


# --------------------------------------------------------------------------- acte


def _deed_lines(
    rng: np.random.Generator, font: ImageFont.FreeTypeFont, width: float, count: int
) -> list[list[str]]:
    """Paragraphs of wrapped lines, `count` lines in all (the last paragraph cut short)."""
    fields = _deed_fields(rng)
    paragraphs: list[list[str]] = []
    total = 0
    while total < count:
        for template in DEED_PARAGRAPHS:
            wrapped = _wrap(template.format(**fields), font, width)[: count - total]
            if not wrapped:
                break
            paragraphs.append(wrapped)
            total += len(wrapped)
        fields = _deed_fields(rng)  # a long page continues with a second deed
    return paragraphs


def _acte_capacity(dpi: int) -> int:
    height = _page_shape(dpi)[0]
    body_px = _font_px(11.5, dpi)
    usable = height - 2 * dpi - 3 * body_px  # 1-inch margins, title and its gap
    return int(usable // (1.45 * body_px)) - 8  # paragraph gaps


def _render_acte(rng: np.random.Generator, dpi: int, lines: int | None) -> tuple[np.ndarray, str]:
    height, width = _page_shape(dpi)
    capacity = _acte_capacity(dpi)
    count = int(rng.integers(capacity - 10, capacity + 1)) if lines is None else lines
    if not 1 <= count <= capacity:
        raise ValueError(f"an acte page at {dpi} dpi holds 1 to {capacity} lines, not {count}")
    body = _font(_font_px(11.5, dpi))
    title_font = _font(_font_px(14, dpi), bold=True)
    margin = dpi
    title = _pick(rng, DEED_TITLES)
    paragraphs = _deed_lines(rng, body, width - 2 * margin, count)

    canvas = Image.new("L", (width, height), 255)
    draw = ImageDraw.Draw(canvas)
    title_x = (width - title_font.getlength(title)) / 2
    draw.text((title_x, margin), title, font=title_font, fill=0)
    y = margin + 3 * body.size
    step = round(1.45 * body.size)
    for paragraph in paragraphs:
        for line in paragraph:
            draw.text((margin, y), line, font=body, fill=0)
            y += step
        y += step // 2
    truth = "\n".join([title, *(line for paragraph in paragraphs for line in paragraph)])
    return np.asarray(canvas, dtype=np.uint8).copy(), truth


# --------------------------------------------------------------------------- index


def _index_row(rng: np.random.Generator) -> dict[str, str]:
    numero = _registry_number(rng)
    parties = f"{_pick(rng, SURNAMES)}, {_pick(rng, GIVEN_NAMES)} à " + (
        f"{_pick(rng, SURNAMES)}, {_pick(rng, GIVEN_NAMES)}"
    )
    if rng.random() < 0.3:  # several buyers, which is what overflows the cell
        parties += f" et {_person(rng)}"
    date = f"{int(rng.integers(1950, 2024))}-{int(rng.integers(1, 13)):02d}-" + (
        f"{int(rng.integers(1, 29)):02d}"
    )
    return {
        "date": date,
        "nature": _pick(rng, NATURES),
        "parties": parties,
        "numero": numero,
        "remarques": _pick(rng, REMARKS).format(numero=_registry_number(rng)),
    }


@dataclass(frozen=True)
class _Table:
    left: int
    top: int
    row_px: int
    cols_x: list[int]  # boundaries, left edge first, right edge last
    line_px: int


def _index_table(dpi: int) -> _Table:
    width = _page_shape(dpi)[1]
    margin = round(0.6 * dpi)
    inner = width - 2 * margin
    cols_x = [margin]
    for share in INDEX_COLUMN_SHARES:
        cols_x.append(cols_x[-1] + round(share * inner))
    cols_x[-1] = width - margin
    return _Table(margin, round(1.3 * dpi), round(1.9 * _font_px(10, dpi)), cols_x,
                  max(2, round(dpi / 100)))


def _index_capacity(dpi: int) -> int:
    table = _index_table(dpi)
    return (_page_shape(dpi)[0] - table.top - round(0.7 * dpi)) // table.row_px - 1


def _draw_cells(
    draw: ImageDraw.ImageDraw,
    table: _Table,
    y: int,
    cells: Sequence[str],
    font: ImageFont.FreeTypeFont,
) -> list[str]:
    """Draw one row's cells, each fitted to its column; returns what was drawn."""
    pad = table.row_px // 4
    drawn = []
    for cell, (x0, x1) in zip(cells, pairwise(table.cols_x), strict=True):
        text = _fit(cell, font, x1 - x0 - 2 * pad)
        text_y = y + (table.row_px - font.size) // 2 - font.size // 8
        draw.text((x0 + pad, text_y), text, font=font, fill=0)
        drawn.append(text)
    return drawn


def _draw_ruling(draw: ImageDraw.ImageDraw, table: _Table, rows: int) -> None:
    bottom = table.top + (rows + 1) * table.row_px
    for i in range(rows + 2):
        y = table.top + i * table.row_px
        draw.rectangle((table.cols_x[0], y, table.cols_x[-1], y + table.line_px - 1), fill=40)
    for x in table.cols_x:
        draw.rectangle((x, table.top, x + table.line_px - 1, bottom + table.line_px - 1),
                       fill=40)


def _index_line(cells: Sequence[str]) -> str:
    # An empty last cell would leave a dangling separator nobody can read.
    return CELL_SEPARATOR.join(cells).rstrip(" |")


def _render_index(
    rng: np.random.Generator, dpi: int, rows: int | None
) -> tuple[np.ndarray, str, list[dict[str, str]]]:
    height, width = _page_shape(dpi)
    capacity = _index_capacity(dpi)
    count = int(rng.integers(capacity // 2, capacity + 1)) if rows is None else rows
    if not 0 <= count <= capacity:
        raise ValueError(f"an index page at {dpi} dpi holds 0 to {capacity} rows, not {count}")
    table = _index_table(dpi)
    body = _font(_font_px(10, dpi))
    bold = _font(_font_px(10, dpi), bold=True)
    title_font = _font(_font_px(13, dpi), bold=True)
    title = "INDEX DES IMMEUBLES"
    subtitle = f"Circonscription foncière de {_pick(rng, PLACES)}, lot {_registry_number(rng)}"

    canvas = Image.new("L", (width, height), 255)
    draw = ImageDraw.Draw(canvas)
    draw.text((table.left, round(0.6 * dpi)), title, font=title_font, fill=0)
    draw.text((table.left, round(0.6 * dpi) + 2 * title_font.size), subtitle, font=body, fill=0)
    _draw_ruling(draw, table, count)
    header = _draw_cells(draw, table, table.top, INDEX_HEADER, bold)
    drawn_rows = []
    for i in range(count):
        row = _index_row(rng)
        y = table.top + (i + 1) * table.row_px
        cells = _draw_cells(draw, table, y, [row[k] for k in INDEX_KEYS], body)
        drawn_rows.append(dict(zip(INDEX_KEYS, cells, strict=True)))
    lines = [title, subtitle, _index_line(header)]
    lines += [_index_line([r[k] for k in INDEX_KEYS]) for r in drawn_rows]
    return np.asarray(canvas, dtype=np.uint8).copy(), "\n".join(lines), drawn_rows


# --------------------------------------------------------------------------- degradation


def _fade_ink(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Old ribbon ink: black becomes dark grey, paper stays white."""
    ink = rng.uniform(50, 120)
    return (ink + img.astype(np.float32) * (255 - ink) / 255).astype(np.uint8)


def _stain(shape: tuple[int, int], rng: np.random.Generator, dpi: int) -> np.ndarray:
    """Multiplicative map of one coffee stain: a faint disc with a darker rim."""
    h, w = shape
    mask = np.zeros((h // 4, w // 4), np.float32)
    center = (int(rng.integers(0, w // 4)), int(rng.integers(0, h // 4)))
    radius = int(rng.uniform(0.4, 1.0) * dpi / 4)
    cv2.circle(mask, center, radius, 0.15, -1)
    cv2.circle(mask, center, radius, 0.3, max(1, radius // 10))
    soft = cv2.GaussianBlur(mask, (0, 0), max(1.0, radius / 8))
    return 1.0 - cv2.resize(soft, (w, h), interpolation=cv2.INTER_LINEAR)


def _stains(img: np.ndarray, rng: np.random.Generator, dpi: int) -> np.ndarray:
    factor = np.ones(img.shape, np.float32)
    for _ in range(int(rng.integers(1, 4))):
        factor *= _stain(img.shape, rng, dpi)
    return (img * factor).astype(np.uint8)


def rotate(img: np.ndarray, angle_deg: float, fill: int = 255) -> np.ndarray:
    """Rotate about the centre, counter-clockwise for a positive angle, keeping the size."""
    h, w = img.shape
    matrix = cv2.getRotationMatrix2D((w / 2, h / 2), angle_deg, 1.0)
    return cv2.warpAffine(img, matrix, (w, h), flags=cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_CONSTANT, borderValue=fill)


def _illumination(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A scanner lamp brighter on one side: a linear gradient down to 55-80 %."""
    h, w = img.shape
    theta = rng.uniform(0, 2 * np.pi)
    ys, xs = np.mgrid[0:h:8, 0:w:8].astype(np.float32)
    ramp = xs / w * np.cos(theta) + ys / h * np.sin(theta)
    ramp = (ramp - ramp.min()) / max(float(np.ptp(ramp)), 1e-6)
    low = rng.uniform(0.55, 0.80)
    gain = cv2.resize(1.0 - (1.0 - low) * ramp, (w, h), interpolation=cv2.INTER_LINEAR)
    return (img * gain).astype(np.uint8)


def _dark_borders(img: np.ndarray, rng: np.random.Generator, dpi: int) -> np.ndarray:
    """The scanner lid's black edges on two to four sides, ragged like real ones."""
    out = img.copy()
    h, w = img.shape
    ys, xs = np.arange(h)[:, None], np.arange(w)[None, :]
    for side in rng.permutation(4)[: int(rng.integers(2, 5))]:
        depth = int(rng.uniform(0.05, 0.25) * dpi)
        along = w if side < 2 else h
        # A random walk around `depth`: scanner lids never cast a straight shadow.
        ragged = depth + np.cumsum(rng.integers(-1, 2, along)).clip(-depth // 3, depth // 3)
        distance = (ys, h - 1 - ys, xs, w - 1 - xs)[side]
        covered = distance < (ragged[None, :] if side < 2 else ragged[:, None])
        out[covered] = int(rng.integers(15, 60))
    return out


def _blur_noise_jpeg(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    blurred = cv2.GaussianBlur(img, (0, 0), rng.uniform(0.6, 1.1))
    noise = rng.normal(0.0, rng.uniform(4, 9), img.shape).astype(np.float32)
    noisy = np.clip(blurred + noise, 0, 255).astype(np.uint8)
    quality = int(rng.integers(35, 61))
    ok, encoded = cv2.imencode(".jpg", noisy, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise RuntimeError("OpenCV could not JPEG-encode a page")
    decoded = cv2.imdecode(encoded, cv2.IMREAD_GRAYSCALE)
    if decoded is None:
        raise RuntimeError("OpenCV could not decode its own JPEG")
    return decoded


def degrade_scan(img: np.ndarray, rng: np.random.Generator, dpi: int) -> tuple[np.ndarray, float]:
    """Paper damage first, then what the scanner adds; returns the image and its skew."""
    out = _stains(_fade_ink(img, rng), rng, dpi)
    skew = float(rng.uniform(-3.0, 3.0))
    out = rotate(out, skew, fill=int(out.max()))
    out = _dark_borders(_illumination(out, rng), rng, dpi)
    return _blur_noise_jpeg(out, rng), skew


# --------------------------------------------------------------------------- public API


def acte_page(
    seed: int, *, degrade: bool = False, dpi: int = 300, lines: int | None = None
) -> GeneratedPage:
    """A deed page: title line, then `lines` body lines (seeded count when None)."""
    rng = np.random.default_rng([seed, 1])
    image, text = _render_acte(rng, dpi, lines)
    skew = 0.0
    if degrade:
        image, skew = degrade_scan(image, np.random.default_rng([seed, 2]), dpi)
    return GeneratedPage(image=image, text=text, kind="acte", rows=[], skew_deg=skew)


def index_page(
    seed: int, *, degrade: bool = False, dpi: int = 300, rows: int | None = None
) -> GeneratedPage:
    """A ruled ledger page: title, subtitle, header row, then `rows` entries."""
    rng = np.random.default_rng([seed, 3])
    image, text, drawn = _render_index(rng, dpi, rows)
    skew = 0.0
    if degrade:
        image, skew = degrade_scan(image, np.random.default_rng([seed, 4]), dpi)
    return GeneratedPage(image=image, text=text, kind="index", rows=drawn, skew_deg=skew)


PAGE_MAKERS: dict[str, Callable[..., GeneratedPage]] = {"acte": acte_page, "index": index_page}


def make_document(
    kind: str, seed: int, pages: int, degrade: bool = False, dpi: int = 300
) -> tuple[list[GeneratedPage], str]:
    """`pages` pages of one kind (page i from seed*1000+i) and the document's full truth."""
    if kind not in PAGE_MAKERS:
        raise ValueError(f"unknown document kind {kind!r}; expected 'acte' or 'index'")
    made = [PAGE_MAKERS[kind](seed * 1000 + i, degrade=degrade, dpi=dpi) for i in range(pages)]
    return made, "\n\n".join(page.text for page in made)


def _page_image(
    pdf: pdfium.PdfDocument, img: np.ndarray, jpeg_quality: int | None
) -> pdfium.PdfImage:
    image = pdfium.PdfImage.new(pdf)
    if jpeg_quality is None:
        # Flate, lossless: the PDF holds exactly the pixels the truth describes.
        image.set_bitmap(pdfium.PdfBitmap.from_pil(Image.fromarray(img)))
    else:
        buffer = io.BytesIO()
        Image.fromarray(img).save(buffer, "JPEG", quality=jpeg_quality)
        buffer.seek(0)
        image.load_jpeg(buffer, inline=False)
    return image


def write_pdf(
    pages: list[np.ndarray], path: Path, *, dpi: int = 300, jpeg_quality: int | None = None
) -> None:
    """One image per page filling the page, the way a scanner writes a PDF."""
    pdf = pdfium.PdfDocument.new()
    try:
        for img in pages:
            h, w = img.shape
            page = pdf.new_page(w * 72 / dpi, h * 72 / dpi)
            image = _page_image(pdf, img, jpeg_quality)
            image.set_matrix(pdfium.PdfMatrix().scale(w * 72 / dpi, h * 72 / dpi))
            page.insert_obj(image)
            page.gen_content()
            page.close()
        pdf.save(str(path))
    finally:
        pdf.close()


def write_image(img: np.ndarray, path: Path, *, dpi: int = 300) -> None:
    """A single page as an image file (PNG, TIFF, JPEG: chosen by the suffix)."""
    Image.fromarray(img).save(path, dpi=(dpi, dpi))


# --------------------------------------------------------------------------- ground truth


def _collapse(text: str) -> str:
    return " ".join(text.split())


def levenshtein(a: str, b: str) -> int:
    """Edit distance, one numpy row per character of `a`: fast enough for whole pages."""
    if len(a) < len(b):
        a, b = b, a
    if not b:
        return len(a)
    codes_b = np.frombuffer(b.encode("utf-32-le"), dtype=np.uint32)
    previous = np.arange(len(b) + 1, dtype=np.int64)
    for i, char in enumerate(a, start=1):
        substitution = previous[:-1] + (codes_b != ord(char))
        current = np.empty_like(previous)
        current[0] = i
        current[1:] = np.minimum(previous[1:] + 1, substitution)
        # Insertions chain along the row: a running minimum of (value - index) does it.
        offsets = np.arange(len(current))
        current = np.minimum.accumulate(current - offsets) + offsets
        previous = current
    return int(previous[-1])


def cer(reference: str, hypothesis: str) -> float:
    """Character error rate, whitespace runs collapsed to one space on both sides."""
    ref, hyp = _collapse(reference), _collapse(hypothesis)
    if not ref:
        return 0.0 if not hyp else 1.0
    return levenshtein(ref, hyp) / len(ref)


# --------------------------------------------------------------------------- CLI


def _write_document(outdir: Path, kind: str, seed: int, pages: int, degrade: bool) -> None:
    made, truth = make_document(kind, seed, pages, degrade)
    stem = outdir / f"{kind}_{seed:04d}"
    write_pdf([page.image for page in made], stem.with_suffix(".pdf"))
    stem.with_suffix(".truth.txt").write_text(truth + "\n", encoding="utf-8")
    if kind == "index":
        rows = [page.rows for page in made]
        stem.with_suffix(".rows.json").write_text(
            json.dumps(rows, ensure_ascii=False, indent=1), encoding="utf-8"
        )


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m ocrmp.ocr.corpus", description="Write synthetic registry PDFs."
    )
    parser.add_argument("outdir", type=Path)
    parser.add_argument("--acte", type=int, default=0, help="number of acte documents")
    parser.add_argument("--index", type=int, default=0, help="number of index documents")
    parser.add_argument("--pages", type=int, default=1, help="pages per document")
    parser.add_argument("--degrade", action="store_true", help="age the scans")
    parser.add_argument("--seed", type=int, default=0, help="seed of the first document")
    args = parser.parse_args(argv)
    args.outdir.mkdir(parents=True, exist_ok=True)
    for kind, count in (("acte", args.acte), ("index", args.index)):
        for n in range(count):
            _write_document(args.outdir, kind, args.seed + n, args.pages, args.degrade)


if __name__ == "__main__":
    main()
