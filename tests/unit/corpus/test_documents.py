"""The other layouts of a deed's file: letters, verse, columns, reports, and their truth."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from ocrmp.corpus import LAYOUTS, acte_page, font, font_px, main, random_options, random_page
from ocrmp.corpus.documents import VERSE_TITLES

DPI = 100


@pytest.mark.parametrize("layout", LAYOUTS)
def test_every_layout_is_a_pure_function_of_its_seed(layout: str) -> None:
    a, b = acte_page(8, layout=layout, dpi=DPI), acte_page(8, layout=layout, dpi=DPI)
    assert np.array_equal(a.image, b.image) and a.text == b.text
    assert a.text != acte_page(9, layout=layout, dpi=DPI).text
    assert a.options["layout"] == layout and a.kind == "acte"


@pytest.mark.parametrize("count", [2, 3])
def test_columns_leave_their_gutters_blank_and_no_truth_line_crosses_one(count: int) -> None:
    page = acte_page(4, layout=f"columns-{count}", dpi=DPI, face="sans")
    width = page.image.shape[1]
    margin = round(0.8 * DPI)
    body = font(font_px(11 if count == 2 else 10, DPI), face="sans")
    column_w = (width - 2 * margin - (count - 1) * 0.25 * DPI) / count
    title, *lines = page.text.split("\n")
    assert all(body.getlength(line) <= column_w for line in lines[1:])
    # Below the title, the middle of the first gutter holds no ink.
    gutter_x = round(margin + column_w + 0.12 * DPI)
    below_title = page.image[round(1.4 * DPI):, gutter_x]
    assert (below_title > 200).all()
    assert len(lines) > 30 * count


@pytest.mark.parametrize("layout", ["letter", "verse"])
def test_letters_and_poems_are_mostly_short_lines(layout: str) -> None:
    page = acte_page(2, layout=layout, dpi=DPI)
    short = [line for line in page.text.split("\n") if len(line) < 40]
    assert len(short) >= 8
    assert len(short) / len(page.text.split("\n")) > 0.4


def test_a_report_reads_a_margin_label_with_the_line_beside_it() -> None:
    pages = [acte_page(seed, layout="report", dpi=DPI) for seed in range(4)]
    text = "\n".join(page.text for page in pages)
    assert "1. Désignation" in text
    labelled = [line for line in text.split("\n") if line.split(" ")[0] in
                ("Lot", "Prix", "Vendeur", "Acheteur", "Notaire", "Numéro", "Note")]
    assert labelled


def test_random_deed_pages_draw_every_layout_and_can_be_made_again() -> None:
    drawn = {random_options(seed, "acte")["layout"] for seed in range(60)}
    assert drawn == set(LAYOUTS)
    page = random_page(21, "acte", dpi=DPI)
    assert np.array_equal(acte_page(21, **page.options).image, page.image)


def test_layout_errors_name_what_is_wrong() -> None:
    with pytest.raises(ValueError, match="layout"):
        acte_page(0, layout="newspaper", dpi=DPI)
    with pytest.raises(ValueError, match="lines"):
        acte_page(0, layout="letter", lines=10, dpi=DPI)


def test_the_command_line_writes_pages_of_a_layout(tmp_path: Path) -> None:
    main([str(tmp_path), "--acte", "1", "--layout", "verse"])
    truth = (tmp_path / "acte_0000.truth.txt").read_text(encoding="utf-8")
    assert truth.split("\n")[0] in VERSE_TITLES
