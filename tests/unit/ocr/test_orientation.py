"""Which way up a page is: the pure decisions, and the lines of generated pages (no engine)."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image, ImageDraw

from ocrmp.corpus import acte_page, font, ledger_page
from ocrmp.ocr import clean, ink
from ocrmp.ocr.engines import load_engine
from ocrmp.ocr.ink import Ink, lines_along, turn
from ocrmp.ocr.orientation import (
    SAMPLE_HEIGHT,
    LineReader,
    Orientation,
    axis_of,
    by_ascent,
    by_engine,
    half_turn,
    turn_by,
    uncertain,
    upright,
)
from ocrmp.ocr.settings import OcrSettings


def orient(image: np.ndarray, reader: LineReader | None) -> tuple[Orientation, Ink]:
    """What the readers do first: the page flattened, analysed, turned upright."""
    flat = clean.flatten(image)
    return upright(ink.analyse(flat), flat, reader)


def test_lines_across_or_down_the_page_set_the_axis_and_a_tie_sets_none() -> None:
    assert axis_of(0.8, 0.05) == 0
    assert axis_of(0.05, 0.8) == 90
    assert axis_of(0.4, 0.35) is None
    assert axis_of(0.05, 0.02) is None  # too little ink in lines either way


def test_the_ascent_turns_a_page_over_and_is_sure_only_when_large() -> None:
    assert by_ascent(0, 0.5) == Orientation(0, 1.0, "lines")
    assert by_ascent(90, -0.5).angle == 270
    assert by_ascent(0, -0.05).angle == 180 and uncertain(by_ascent(0, -0.05))


def test_the_engine_is_believed_by_its_margin_and_only_on_lines_it_reads() -> None:
    assert by_engine({0: 92.0, 180: 40.0}) == Orientation(0, 1.0, "engine")
    assert uncertain(by_engine({0: 60.0, 180: 55.0}))  # no clear winner
    assert uncertain(by_engine({90: 35.0, 270: 5.0}))  # handwriting: nothing reads


def test_an_unsure_decision_is_not_acted_on() -> None:
    assert turn_by(Orientation(180, 0.9, "lines"), (0.6, 0.1)) == 180
    assert turn_by(Orientation(180, 0.0, "engine"), (0.6, 0.1)) == 0  # read as it is
    assert turn_by(Orientation(90, 0.2, "engine"), (0.3, 0.25)) == 0  # axis in doubt too
    # Lines surely down the page cannot be read as they are: turned, and flagged.
    assert turn_by(Orientation(270, 0.2, "engine"), (0.05, 0.6)) == 270


def test_turn_undoes_each_quarter_turn() -> None:
    page = np.arange(12, dtype=np.uint8).reshape(3, 4)
    for angle in (0, 90, 180, 270):
        assert np.array_equal(turn(np.rot90(page, angle // 90), angle), page)


def test_turning_the_analysis_turns_its_components_with_its_mask() -> None:
    analysis = ink.analyse(clean.flatten(acte_page(6, lines=8).image))
    for angle in (90, 180, 270):
        turned = analysis.turned(angle)
        again = ink.component_stats(turned.mask)
        assert sorted(map(tuple, turned.stats[:, :4])) == sorted(map(tuple, again[:, :4]))


@pytest.mark.parametrize("angle", [0, 90, 180, 270])
def test_a_deed_turned_any_way_is_found_by_its_lines_alone(angle: int) -> None:
    page = acte_page(5, orientation_deg=angle)
    found, _ = orient(page.image, None)
    assert found.angle == angle and found.method == "lines"
    assert not uncertain(found)


@pytest.mark.parametrize("angle", [90, 270])
def test_a_ruled_ledger_turned_sideways_is_found(angle: int) -> None:
    page = ledger_page(3, format="inscription", orientation_deg=angle)
    image = page.image if page.image.ndim == 2 else page.image.mean(axis=2).astype(np.uint8)
    assert orient(image, None)[0].angle == angle


def test_a_blank_page_has_no_orientation_to_doubt() -> None:
    found, _ = orient(np.full((1100, 850), 255, np.uint8), None)
    assert found.method == "none" and not uncertain(found)


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
    found, _ = orient(x_height_page(), reader)
    assert reader.asked > 0  # the lines alone could not tell up from down
    assert found.method == "engine" and uncertain(found) and found.angle == 0


def test_a_half_turn_puts_each_line_and_its_band_where_the_turned_mask_has_them() -> None:
    _, analysis = orient(acte_page(7).image, None)
    _, lines = lines_along(analysis.mask, analysis.size)
    _, turned = lines_along(np.ascontiguousarray(analysis.mask[::-1, ::-1]), analysis.size)
    assert len(lines) > 10
    assert {half_turn(line, analysis.mask.shape) for line in lines} == set(turned)


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
    found, _ = orient(np.asarray(turned), reader)
    assert found == Orientation(0, 1.0, "engine")
    first = reader.samples[0]
    assert first.shape[0] == SAMPLE_HEIGHT
    words = reader.engine.recognize(first, psm=7).text.split()
    assert {"nous", "verrons", "une"} <= set(words)
