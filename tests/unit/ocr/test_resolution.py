"""A page's true resolution and the scale it is read at (pure, and on generated pages)."""

from __future__ import annotations

import pytest

from ocrmp.corpus import acte_page
from ocrmp.ocr import clean, ink, orientation
from ocrmp.ocr.ink import Bar
from ocrmp.ocr.resolution import (
    DOWN_TO,
    HIGH_X_HEIGHT,
    LOW_X_HEIGHT,
    MAX_SCALE,
    UP_TO,
    choose_scale,
    plausible,
    resolve,
    text_dpi,
)

LETTER_300 = (3300, 2550)


def test_a_declared_resolution_the_text_agrees_with_is_kept() -> None:
    found = resolve(300.0, "pdf", 22.0, LETTER_300, 300)
    assert (found.dpi, found.source, found.scale) == (300.0, "pdf", 1.0)


def test_a_plausible_resolution_stands_against_print_measured_too_small() -> None:
    # Light typing at 400 dpi whose broken strokes measure an x-height of 8 px: the
    # file's resolution stands and its print is not enlarged as if it were 107 dpi.
    found = resolve(400.0, "image", 8.0, (4400, 3400), 300)
    assert (found.dpi, found.source) == (400.0, "image") and found.scale <= 1.0


def test_an_implausible_resolution_is_replaced_by_the_texts() -> None:
    # A 300-dpi scan placed as if at 72 dpi: a page of 35 by 46 inches.
    assert resolve(72.0, "pdf", 22.0, LETTER_300, 300).source == "text"
    # A 1024-pixel-wide JPEG "at 300 dpi": a page of 3.4 by 4.4 inches.
    small = resolve(300.0, "image", 9.0, (1330, 1024), 300)
    assert small.source == "text" and 100 <= small.dpi <= 140
    assert small.scale == pytest.approx(UP_TO / 9.0, abs=0.01)


def test_screen_resolutions_say_nothing() -> None:
    assert not plausible(72.0, (1100, 850)) and not plausible(96.0, (1100, 850))
    assert plausible(100.0, (1100, 850)) and plausible(300.0, LETTER_300)
    assert not plausible(None, LETTER_300) and not plausible(300.0, (600, 400))


def test_without_any_declaration_the_text_decides_and_without_text_the_default() -> None:
    assert resolve(None, "default", 22.0, LETTER_300, 300).source == "text"
    blank = resolve(None, "default", 0.0, LETTER_300, 300)
    assert (blank.dpi, blank.source, blank.scale) == (300.0, "default", 1.0)


def test_impossibly_small_print_is_not_a_measurement() -> None:
    tiny = resolve(100.0, "image", 2.0, (1100, 850), 300)
    # Specks read as print: the declared 100 dpi stands, and its body text is enlarged.
    assert tiny.source == "image" and tiny.x_height_px == 0.0 and tiny.scale > 1.5


def test_small_print_is_enlarged_large_print_reduced_and_the_band_left_alone() -> None:
    assert choose_scale(LOW_X_HEIGHT - 3, 8.0) == pytest.approx(UP_TO / (LOW_X_HEIGHT - 3))
    assert choose_scale(HIGH_X_HEIGHT + 10, 8.0) == pytest.approx(DOWN_TO / (HIGH_X_HEIGHT + 10))
    assert choose_scale((LOW_X_HEIGHT + HIGH_X_HEIGHT) / 2, 8.0) == 1.0
    assert choose_scale(1.0, 0.1) == MAX_SCALE  # never more than MAX_SCALE


def test_enlarging_stays_within_the_pixel_budget() -> None:
    scale = choose_scale(5.0, 40.0)
    assert 40.0 * scale**2 <= 50.0 + 1e-6


@pytest.mark.parametrize("dpi", [100, 150, 200, 300])
def test_the_text_of_a_generated_page_gives_its_resolution_within_a_third(dpi: int) -> None:
    page = acte_page(8, dpi=dpi)
    _, upright = orientation.upright(ink.analyse(clean.flatten(page.image)), page.image, None)
    assert abs(text_dpi(upright.x_height()) - dpi) <= dpi / 3


def test_lines_joined_by_blur_are_not_taken_for_large_print() -> None:
    joined = [Bar(0, 10 * i, 300, 40, 2, 37) for i in range(10)]
    single = [Bar(0, 10 * i, 300, 20, 6, 14) for i in range(10)]
    assert ink.x_height(tuple(joined)) == 0.0
    assert ink.x_height(tuple(joined + single)) == 9.0
    assert ink.x_height(tuple(single[:2])) == 0.0  # two lines are too few to say
