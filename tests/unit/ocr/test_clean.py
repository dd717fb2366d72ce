"""Page cleaning, each step on a generated page whose right answer is known."""


from __future__ import annotations

from collections.abc import Callable, Iterator

import cv2
import numpy as np
import pytest
from PIL import Image, ImageDraw

from ocrmp import corpus
from ocrmp.corpus import acte_page, cer, index_page, rotate
from ocrmp.ocr import ink
from ocrmp.ocr.clean import flatten, level, remove_lonely_specks
from ocrmp.ocr.ruling import (
    RulingLines,
    erase_remnants,
    find_ruling_lines,
    remove_ruling_lines,
)

TESSDATA = "/usr/share/tesseract-ocr/5/tessdata/"
Stained = tuple[np.ndarray, np.ndarray, np.ndarray]  # clean page, dirty page, stain map
Ocr = Callable[[np.ndarray], str]


def _text_image(text: str, px: int = 48, size: tuple[int, int] = (600, 160)) -> np.ndarray:
    canvas = Image.new("L", size, 255)
    ImageDraw.Draw(canvas).text((20, 40), text, font=corpus.font(px), fill=0)
    return np.asarray(canvas).copy()


def _ink(img: np.ndarray) -> np.ndarray:
    return img < 128


# --------------------------------------------------------------------------- borders


def test_flatten_whitens_scanner_edges_and_keeps_text() -> None:
    page = acte_page(0).image
    framed = page.copy()
    framed[:, :70] = 30  # left lid shadow
    framed[:45, :] = 50  # top lid shadow
    out = flatten(framed)
    assert out[:, :70].min() >= 200 and out[:45, :].min() >= 200
    # The text a few pixels clear of the borders is the text scanned.
    assert np.array_equal(_ink(out[80:, 100:]), _ink(page[80:, 100:]))


def test_flatten_leaves_a_clean_page_alone() -> None:
    page = index_page(1).image
    # Paper divided by itself stays paper; only antialiased edges of strokes move.
    assert (_ink(flatten(page)) == _ink(page)).mean() > 0.999


# --------------------------------------------------------------------------- skew

SKEWS = [(0, -4.6), (1, -2.25), (2, -0.7), (3, 0.0), (4, 0.35), (5, 1.8), (6, 3.3), (7, 4.9)]


@pytest.mark.parametrize(("seed", "angle"), SKEWS)
@pytest.mark.parametrize("make", [acte_page, index_page])
def test_skew_within_a_tenth_of_a_degree(
    make: Callable[..., corpus.GeneratedPage], seed: int, angle: float
) -> None:
    page = rotate(make(seed).image, angle)
    assert skew(page) == pytest.approx(angle, abs=0.1)


def skew(image: np.ndarray) -> float:
    """The skew the readers measure: on the flattened page's analysis."""
    return ink.skew_of(ink.analyse(flatten(image)).mask)


@pytest.mark.parametrize("seed", range(4))
def test_skew_on_degraded_pages(seed: int) -> None:
    page = (acte_page if seed % 2 else index_page)(seed, degrade=True)
    assert skew(page.image) == pytest.approx(page.skew_deg, abs=0.1)


def test_skew_of_blank_page_is_zero() -> None:
    assert skew(np.full((1100, 850), 255, np.uint8)) == 0.0


def test_level_levels_the_lines() -> None:
    page = acte_page(2).image
    assert skew(level(rotate(page, 2.5), 2.5)) == pytest.approx(0.0, abs=0.05)


# --------------------------------------------------------------------------- background


@pytest.fixture(scope="module")
def stained() -> Stained:
    """A short deed under a dark stain over text and blank paper, and a lamp gradient."""
    clean = acte_page(4, lines=6).image
    h, w = clean.shape
    stain = np.zeros((h, w), np.float32)
    cv2.circle(stain, (w // 2, 700), 260, 0.35, -1)  # over the text
    cv2.circle(stain, (w // 2, 2600), 260, 0.35, -1)  # over blank paper
    gradient = np.linspace(1.0, 0.6, w, dtype=np.float32)[None, :]
    dirty = (clean * (1 - stain) * gradient).astype(np.uint8)
    return clean, dirty, stain


def test_flatten_flattens_stain_and_light(stained: Stained) -> None:
    clean, dirty, stain = stained
    out = flatten(dirty)
    blank_stain = out[2450:2750, clean.shape[1] // 2 - 150 : clean.shape[1] // 2 + 150]
    assert np.median(dirty[2450:2750, 1125:1425]) < 170  # the stain was there
    assert np.median(blank_stain) >= 240
    paper = (clean == 255) & (stain > 0.3)
    assert np.median(out[paper]) >= 240
    text = (clean < 60) & (stain > 0.3)  # glyph cores under the stain
    assert text.sum() > 500 and np.median(out[text]) < 100


# --------------------------------------------------------------------------- ruling lines


def test_find_ruling_lines_at_the_drawn_positions() -> None:
    page = index_page(3, rows=5).image
    table = corpus.index_table(300)
    half = table.line_px // 2
    expected_rows = [table.top + i * table.row_px + half for i in range(5 + 2)]
    expected_cols = [x + half for x in table.cols_x]
    found = find_ruling_lines(page)
    assert len(found.rows_y) == len(expected_rows) and len(found.cols_x) == len(expected_cols)
    assert np.abs(np.subtract(found.rows_y, expected_rows)).max() <= 2
    assert np.abs(np.subtract(found.cols_x, expected_cols)).max() <= 2


def test_find_ruling_lines_none_on_a_deed() -> None:
    found = find_ruling_lines(acte_page(3).image)
    assert found.rows_y == [] and found.cols_x == []


def test_remove_ruling_lines_keeps_letters_that_cross_them() -> None:
    text = _text_image("Hébert, Côté à Lévesque", px=48, size=(1200, 160))
    ruled = text.copy()
    ruled[68:71, :] = 0  # a rule through the middle of the lower-case letters
    ruled[:, 1150:1153] = 0
    out = remove_ruling_lines(ruled)
    assert find_ruling_lines(out) == RulingLines([], [])
    left, drawn = _ink(out)[:, :1100], _ink(text)[:, :1100]
    # Every stroke crossing the rule is still there; only where a letter's own
    # horizontal stroke lay on the rule can a few pixels go.
    assert np.array_equal(left.any(axis=0), drawn.any(axis=0))
    assert (left & drawn).sum() / (left | drawn).sum() > 0.9
    assert (left & ~drawn).sum() < 0.02 * drawn.sum()  # rule bits kept inside strokes
    assert not _ink(out)[:, 1100:].any()


def test_remove_ruling_lines_clears_a_ledger() -> None:
    page = index_page(6, rows=8).image
    out = remove_ruling_lines(page)
    found = find_ruling_lines(out)
    assert found.rows_y == [] and found.cols_x == []
    assert _ink(out).sum() > 0.5 * _ink(page).sum()  # the text remains


def test_a_piece_of_rule_the_ruling_missed_is_erased_and_the_letters_stay() -> None:
    text = _text_image("Donation Sale", px=48, size=(900, 160))
    marked = text.copy()
    marked[20:140, 8:11] = 0  # a piece of a broken column rule, beside the first letter
    out = erase_remnants(marked, x_height=24)
    assert not _ink(out)[:, :16].any()
    kept, drawn = _ink(out)[:, 16:], _ink(text)[:, 16:]
    assert (kept & drawn).sum() / drawn.sum() > 0.98


def test_lonely_specks_go_and_accents_and_stops_stay() -> None:
    text = _text_image("Thérèse à Québec.", px=48, size=(900, 200))
    specked = text.copy()
    for y, x in ((8, 300), (12, 620), (180, 100), (170, 800)):  # a fax's specks
        specked[y:y + 3, x:x + 3] = 0
    out = remove_lonely_specks(specked, x_height=24)
    assert np.array_equal(_ink(out), _ink(text))


# --------------------------------------------------------------------------- with tesseract


@pytest.fixture(scope="module")
def ocr() -> Iterator[Ocr]:
    tesserocr = pytest.importorskip("tesserocr")
    api = tesserocr.PyTessBaseAPI(path=TESSDATA, lang="fra", psm=tesserocr.PSM.SINGLE_BLOCK)

    def read(img: np.ndarray) -> str:
        api.SetImage(Image.fromarray(img))
        return str(api.GetUTF8Text())

    try:
        yield read
    finally:
        api.End()


def _layout_free(text: str) -> str:
    # Cell separators are layout, not content: tesseract reads rules as "|" or not at all.
    return text.replace("|", " ")


def cleaned(page: corpus.GeneratedPage) -> np.ndarray:
    """What the readers clean a page to: flattened, levelled, and a ledger unruled."""
    image = flatten(page.image)
    image = level(image, skew(page.image))
    return remove_ruling_lines(image) if page.kind == "index" else image


def _cers(ocr: Ocr, page: corpus.GeneratedPage) -> tuple[float, float]:
    truth = _layout_free(page.text)
    raw = cer(truth, _layout_free(ocr(page.image)))
    return raw, cer(truth, _layout_free(ocr(cleaned(page))))


@pytest.mark.parametrize("kind", ["acte", "index"])
def test_cleaning_never_makes_a_clean_page_worse(ocr: Ocr, kind: str) -> None:
    page = acte_page(10, lines=6) if kind == "acte" else index_page(10, rows=4)
    raw, after = _cers(ocr, page)
    assert after <= raw + 0.01


def test_cleaning_keeps_a_degraded_deed_readable(ocr: Ocr) -> None:
    raw, after = _cers(ocr, acte_page(11, degrade=True, lines=6))
    assert after <= raw + 0.01 and after < 0.03


def test_cleaning_improves_a_degraded_ledger(ocr: Ocr) -> None:
    raw, after = _cers(ocr, index_page(11, degrade=True, rows=4))
    assert after < raw / 2 and after < 0.05
