"""Which way up a page is: the pure decisions, and the lines of generated pages (no engine)."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image, ImageDraw

from ocrmp.corpus import acte_page, font, ledger_page
from ocrmp.ocr import analysis, preprocess
from ocrmp.ocr.engines import load_engine
from ocrmp.ocr.orientation import (
    SAMPLE_HEIGHT,
    Orientation,
    axis_of,
    by_ascent,
    by_engine,
    detect,
    half_turn,
    upright,
)
from ocrmp.ocr.prepare import orient
from ocrmp.ocr.settings import OcrSettings


def test_lines_across_or_down_the_page_set_the_axis_and_a_tie_sets_none() -> None:
    assert axis_of(0.8, 0.05) == 0
    assert axis_of(0.05, 0.8) == 90
    assert axis_of(0.4, 0.35) is None
    assert axis_of(0.05, 0.02) is None  # too little ink in lines either way


def test_the_ascent_turns_a_page_over_and_is_sure_only_when_large() -> None:
    assert by_ascent(0, 0.5) == Orientation(0, 1.0, "lines")
    assert by_ascent(90, -0.5).angle == 270
    assert by_ascent(0, -0.05).angle == 180 and by_ascent(0, -0.05).uncertain


def test_the_engine_is_believed_by_its_margin_and_only_on_lines_it_reads() -> None:
    assert by_engine({0: 92.0, 180: 40.0}) == Orientation(0, 1.0, "engine")
    assert by_engine({0: 60.0, 180: 55.0}).uncertain  # no clear winner
    assert by_engine({90: 35.0, 270: 5.0}).uncertain  # handwriting: nothing reads


def test_upright_undoes_each_quarter_turn() -> None:
    page = np.arange(12, dtype=np.uint8).reshape(3, 4)
    for angle in (0, 90, 180, 270):
        assert np.array_equal(upright(np.rot90(page, angle // 90), angle), page)


@pytest.mark.parametrize("angle", [0, 90, 180, 270])
def test_a_deed_turned_any_way_is_found_by_its_lines_alone(angle: int) -> None:
    page = acte_page(5, orientation_deg=angle)
    found = orient(preprocess.flatten(page.image).image, None)
    assert found.orientation.angle == angle and found.orientation.method == "lines"
    assert not found.orientation.uncertain


@pytest.mark.parametrize("angle", [90, 270])
def test_a_ruled_ledger_turned_sideways_is_found(angle: int) -> None:
    page = ledger_page(3, format="inscription", orientation_deg=angle)
    image = page.image if page.image.ndim == 2 else page.image.mean(axis=2).astype(np.uint8)
    assert orient(preprocess.flatten(image).image, None).orientation.angle == angle


def test_a_blank_page_has_no_orientation_to_doubt() -> None:
    blank = np.full((1100, 850), 255, np.uint8)
    found = detect(orient(blank, None).ink, blank, None).orientation
    assert found.method == "none" and not found.uncertain


class Unreadable:
    """A reader for which no way up reads: handwriting, a picture."""

    asked = 0

    def line_confidence(self, image: np.ndarray) -> float:
        self.asked += 1
        return 20.0


def x_height_page() -> np.ndarray:
    """Words of letters without ascenders or descenders: nothing tells up from down."""
    canvas = Image.new("L", (1700, 2200), 255)
    draw = ImageDraw.Draw(canvas)
    typeface = font(40)
    for row in range(20):
        draw.text((150, 150 + row * 90), "nous verrons une course en mer sauve", font=typeface,
                  fill=0)
    return np.asarray(canvas, dtype=np.uint8).copy()


def test_a_page_whose_lines_read_no_way_up_is_left_as_it_is_and_flagged_uncertain() -> None:
    reader = Unreadable()
    found = orient(preprocess.flatten(x_height_page()).image, reader).orientation
    assert reader.asked > 0  # the lines alone could not tell up from down
    assert found.method == "engine" and found.uncertain


def test_a_half_turn_puts_each_line_and_its_band_where_the_turned_mask_has_them() -> None:
    ink = orient(preprocess.flatten(acte_page(7).image).image, None).ink
    size = analysis.glyph_size(analysis.glyph_components(analysis.component_stats(ink.mask),
                                                         ink.mask.shape))
    lines = analysis.lines_along(ink.mask, size).lines
    turned = analysis.lines_along(np.ascontiguousarray(ink.mask[::-1, ::-1]), size).lines
    assert len(lines) > 10
    assert {half_turn(line, ink.mask.shape) for line in lines} == set(turned)


class Recording:
    """The real engine, keeping each sample line it was asked to read."""

    def __init__(self) -> None:
        self.engine = load_engine(OcrSettings())
        self.samples: list[np.ndarray] = []

    def line_confidence(self, image: np.ndarray) -> float:
        self.samples.append(image)
        return self.engine.line_confidence(image)


def test_sample_lines_are_cut_level_from_a_skewed_page_and_read_upright() -> None:
    turned = Image.fromarray(x_height_page()).rotate(2.0, fillcolor=255, expand=False)
    reader = Recording()
    found = orient(preprocess.flatten(np.asarray(turned)).image, reader).orientation
    assert found == Orientation(0, 1.0, "engine")
    first = reader.samples[0]
    assert first.shape[0] == SAMPLE_HEIGHT
    words = reader.engine.recognize(first, psm=7).text.split()
    assert {"nous", "verrons", "une"} <= set(words)
