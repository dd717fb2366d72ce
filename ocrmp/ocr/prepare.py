"""A page made ready for its reader: flattened, analysed once, upright, scaled, levelled.

Both readers start here, so orientation and resolution have one implementation. The ink
is analysed once, on the flattened page before it is turned; turning the page turns the
analysis with it.
"""

from __future__ import annotations

from ocrmp.ocr import clean, ink, orientation, resolution
from ocrmp.ocr.orientation import LineReader
from ocrmp.ocr.page import Frame, Page
from ocrmp.vocabulary import PageFlag


def prepare(page: Page, reader: LineReader | None, default_dpi: float,
            min_skew: float) -> None:
    """The page flattened, analysed, turned upright when that is sure, scaled to the
    engine's good range and levelled when its skew is at least `min_skew` degrees."""
    with page.timed("flatten"):
        flat = clean.flatten(page.scan.image)
    with page.timed("analysis"):
        analysis = ink.analyse(flat)
    with page.timed("orientation"):
        found, analysis = orientation.upright(analysis, flat, reader)
    image = ink.turn(flat, found.angle)
    with page.timed("resolution"):
        res = resolution.resolve(page.scan.declared_dpi, page.scan.dpi_source,
                                 analysis.x_height(), image.shape, default_dpi)
        image = resolution.rescale(image, res.scale)
    skew = analysis.skew if abs(analysis.skew) >= min_skew else 0.0
    if skew:
        with page.timed("deskew"):
            image = clean.level(image, skew)
    page.image, page.ink, page.orientation, page.resolution = image, analysis, found, res
    page.frame = Frame(page.frame.size, found.angle, skew, res.scale)
    if orientation.uncertain(found):
        page.flags.add(PageFlag.ORIENTATION_UNCERTAIN)


def remove_specks(page: Page) -> None:
    """Specks far from any text made paper (`clean.remove_lonely_specks`)."""
    with page.timed("specks"):
        page.image = clean.remove_lonely_specks(page.image, page.x_height_px)
