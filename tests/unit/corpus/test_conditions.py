"""Scan conditions: each option changes the page the way it says, and only that way."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from ocrmp import corpus
from ocrmp.corpus import FACES, INKS, acte_page
from ocrmp.corpus.fonts import FontMissing

DPI = 100


def _ink(img: np.ndarray) -> np.ndarray:
    grey = img if img.ndim == 2 else img.mean(axis=2)
    return grey < 160


def _first_ink(mask: np.ndarray, axis: int) -> tuple[int, int]:
    """(first, last) index along `axis` holding ink."""
    hits = np.flatnonzero(mask.any(axis=1 - axis))
    return int(hits[0]), int(hits[-1])


@pytest.mark.parametrize("face", sorted(FACES))
def test_every_face_draws_the_same_deed_in_its_own_letters(face: str) -> None:
    serif = acte_page(3, dpi=DPI, lines=5)
    page = acte_page(3, dpi=DPI, lines=5, face=face)
    # Wider faces wrap sooner: the same words, five lines of them.
    assert serif.text.split()[:20] == page.text.split()[:20] and page.text.count("\n") == 5
    assert _ink(page.image).sum() > 1000
    assert face == "serif" or not np.array_equal(page.image, serif.image)


def _glyph_cores(img: np.ndarray) -> np.ndarray:
    """The darkest value of each separate mark of ink (a letter, mostly)."""
    count, labels, stats, _ = cv2.connectedComponentsWithStats((img < 160).astype(np.uint8))
    cores = []
    for i in range(1, count):
        x, y, w, h = stats[i, :4]
        box = img[y:y + h, x:x + w]
        cores.append(box[labels[y:y + h, x:x + w] == i].min())
    return np.array(cores)


def test_typewriter_keys_strike_unevenly_printing_does_not() -> None:
    typed = _glyph_cores(acte_page(2, lines=3, face="courier").image)
    printed = _glyph_cores(acte_page(2, lines=3, face="times").image)
    assert printed.std() < 2 and typed.std() > 5


@pytest.mark.parametrize("dpi", [100, 150, 200, 300, 400])
def test_dpi_sets_the_pixel_size_of_the_page_and_its_text(dpi: int) -> None:
    page = acte_page(1, dpi=dpi, lines=4)
    assert page.image.shape == (11 * dpi, round(8.5 * dpi)) and page.dpi == dpi
    first, _ = _first_ink(_ink(page.image), 0)
    assert first == pytest.approx(dpi, abs=0.05 * dpi)  # the title sits one inch down


@pytest.mark.parametrize("turn", [90, 180, 270])
def test_orientation_turns_the_whole_page_counter_clockwise(turn: int) -> None:
    upright = acte_page(4, dpi=DPI, lines=6)
    page = acte_page(4, dpi=DPI, lines=6, orientation_deg=turn)
    assert page.orientation_deg == turn and page.text == upright.text
    assert np.array_equal(page.image, np.rot90(upright.image, turn // 90))
    h, w = upright.image.shape
    assert page.image.shape == ((w, h) if turn in (90, 270) else (h, w))
    # The title, one inch from the top, goes left (90), to the bottom (180), right (270).
    ink = _ink(page.image)
    title_at = {90: _first_ink(ink, 1)[0], 180: h - 1 - _first_ink(ink, 0)[1],
                270: h - 1 - _first_ink(ink, 1)[1]}[turn]
    assert title_at == pytest.approx(DPI, abs=5)


def test_skew_rotates_the_content_by_the_angle_asked() -> None:
    page = acte_page(5, dpi=DPI, lines=8, skew_deg=2.0)
    assert page.skew_deg == 2.0
    assert np.array_equal(page.image, corpus.rotate(acte_page(5, dpi=DPI, lines=8).image, 2.0))


def test_degraded_page_keeps_an_explicit_skew() -> None:
    assert acte_page(5, dpi=DPI, degrade=True, skew_deg=-1.5).skew_deg == -1.5


def test_colour_page_is_rgb_and_its_ink_has_the_colour_asked() -> None:
    page = acte_page(6, dpi=DPI, colour=True, ink="violet")
    assert page.image.shape == (1100, 850, 3) and page.image.dtype == np.uint8 and page.colour
    text = page.image[_ink(page.image)].astype(int)
    red, green, blue = text.mean(axis=0)
    assert blue > red > green  # violet: blue and red, little green
    assert acte_page(6, dpi=DPI, colour=True).image[_ink(page.image)].std(axis=1).mean() < 3


@pytest.mark.parametrize("ink", ["faded", "violet", "blue"])
def test_light_ink_in_a_grey_scan_is_lighter_than_black(ink: str) -> None:
    black = acte_page(7, dpi=300, lines=4).image
    light = acte_page(7, dpi=300, lines=4, ink=ink).image
    assert light.ndim == 2
    assert np.percentile(light, 0.5) > np.percentile(black, 0.5) + 30


def test_yellowed_paper_is_yellow_and_uneven() -> None:
    page = acte_page(8, dpi=DPI, lines=3, colour=True, paper="yellowed").image
    paper = page[-200:-120, 100:-100].reshape(-1, 3).astype(int)
    red, green, blue = paper.mean(axis=0)
    assert red > green > blue and red - blue > 30
    assert paper.std(axis=0).max() > 0.5  # mottled, not a flat fill


def test_stamps_are_drawn_in_their_colour_and_recorded() -> None:
    page = acte_page(9, dpi=150, colour=True, stamps=2)
    stamps = [m for m in page.marks if m.kind == "stamp"]
    assert len(stamps) == 2
    for stamp in stamps:
        assert stamp.text and stamp.colour in INKS
        left, top, right, bottom = stamp.box
        region = page.image[top:bottom, left:right].reshape(-1, 3).astype(int)
        ink = np.array(INKS[stamp.colour])
        inked = region[np.abs(region - ink).sum(axis=1) < 120]
        assert len(inked) > 50


def test_handwriting_marks_change_the_page_only_where_they_are() -> None:
    plain = acte_page(10, dpi=DPI)
    marked = acte_page(10, dpi=DPI, handwriting=3)
    kinds = sorted(m.kind for m in marked.marks)
    assert kinds == ["note", "signature", "strokes"] and marked.text == plain.text
    changed = np.argwhere(plain.image != marked.image)
    assert len(changed) > 100
    inside = np.zeros(len(changed), bool)
    for mark in marked.marks:
        left, top, right, bottom = mark.box
        pad = DPI // 5  # strokes and loops reach a little past their box
        inside |= ((changed[:, 0] >= top - pad) & (changed[:, 0] <= bottom + pad)
                   & (changed[:, 1] >= left - pad) & (changed[:, 1] <= right + pad))
    assert inside.all()


def test_fax_is_bitonal_with_specks() -> None:
    clean = acte_page(11, dpi=150, lines=3)
    fax = acte_page(11, dpi=150, lines=3, fax=True)
    assert fax.image.shape == clean.image.shape and set(np.unique(fax.image)) == {0, 255}
    blank = fax.image[-150:, :]  # the bottom margin: no text, yet specks
    assert 0 < (blank == 0).sum() < 0.01 * blank.size


@pytest.mark.parametrize("options", [
    {"orientation_deg": 45}, {"dpi": 20}, {"ink": "green-ish"}, {"paper": "parchment"},
    {"fax": True, "colour": True}, {"face": "comic"}, {"stamps": -1}, {"skew_deg": 60},
])  # fmt: skip
def test_impossible_options_are_refused_with_their_name(options: dict[str, object]) -> None:
    name = next(iter(options))
    with pytest.raises(ValueError, match=name.split("_")[0]):
        acte_page(0, **{"dpi": DPI, **options})  # type: ignore[arg-type]


def test_missing_font_names_its_apt_package(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(corpus.fonts, "_installed", lambda: {})
    corpus.fonts.font.cache_clear()
    try:
        with pytest.raises(FontMissing, match="apt package fonts-urw-base35"):
            acte_page(0, dpi=DPI, face="courier")
    finally:
        corpus.fonts.font.cache_clear()


@pytest.mark.parametrize("options", [
    {"face": "typewriter", "colour": True, "paper": "yellowed", "ink": "violet", "stamps": 1,
     "handwriting": 2, "orientation_deg": 270, "skew_deg": 1.0, "degrade": True},
    {"fax": True, "face": "courier-prime"},
])  # fmt: skip
def test_every_condition_is_a_pure_function_of_the_seed(options: dict[str, object]) -> None:
    a, b = acte_page(12, dpi=DPI, **options), acte_page(12, dpi=DPI, **options)
    assert np.array_equal(a.image, b.image) and a.marks == b.marks and a.text == b.text
    other = acte_page(13, dpi=DPI, **options)
    assert not np.array_equal(a.image[:400, :400], other.image[:400, :400])
