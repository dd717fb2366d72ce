"""Time limits: a page renders and is read within the page timeout, a document within
pages × page timeout capped by the document timeout; each overrun is its own kind."""

from __future__ import annotations

import time

import numpy as np
import pytest

from ocrmp.ocr import pages
from ocrmp.ocr.engines import PageTimer, Recognition
from ocrmp.ocr.errors import (
    BlankPages,
    DocumentTimeout,
    EngineTimeout,
    PageTooComplex,
    RenderTimeout,
)
from ocrmp.ocr.limits import BLANK_RUN, PACE_PAGES, DocumentClock, document_limit_s
from ocrmp.ocr.pages import iter_pages
from ocrmp.ocr.pipeline import Pipeline
from ocrmp.ocr.settings import OcrSettings
from tests.hostile import blank_pages, page_tree_bomb, stroke_bomb, stroke_pages
from tests.unit.ocr.test_pages import image_bytes, page_pixels, scan_pdf


def test_a_document_may_take_a_page_timeout_per_page_up_to_the_cap() -> None:
    settings = OcrSettings(page_timeout_s=10, document_timeout_s=300)
    assert document_limit_s(3, settings) == 30
    assert document_limit_s(1999, settings) == 300
    assert document_limit_s(0, settings) == 10


def test_a_page_that_draws_for_minutes_is_stopped_at_the_page_timeout() -> None:
    settings = OcrSettings(dpi=300, page_timeout_s=0.5)
    with pytest.raises(RenderTimeout) as info:
        next(iter_pages(stroke_pages(1, 100_000), settings=settings, source="s.pdf"))
    assert info.value.source == "s.pdf page 1" and not info.value.permanent


def test_a_page_whose_content_outgrows_the_renderer_is_too_complex() -> None:
    # Two million strokes parse into more objects than the renderer's memory holds.
    settings = OcrSettings(dpi=300, page_timeout_s=60)
    with pytest.raises(PageTooComplex) as info:
        next(iter_pages(stroke_bomb(), settings=settings, source="b.pdf"))
    assert info.value.permanent


def test_a_page_tree_that_inflates_to_a_gigabyte_is_counted_in_the_capped_child() -> None:
    """Counting the pages parses the page tree: in the worker, a 4 KB file would take the
    gigabyte; in the reading child it meets the cap and the document is refused."""
    settings = OcrSettings(page_timeout_s=60)
    with pytest.raises(PageTooComplex) as info:
        pages.count_pages(page_tree_bomb(2**30), source="t.pdf", settings=settings)
    assert info.value.permanent


class SlowEngine(PageTimer):
    """Takes `seconds` per recognition and reads nothing."""

    name = "slow"

    def __init__(self, seconds: float, timeout_s: float = 60.0) -> None:
        self.seconds = seconds
        self.timeout_s = timeout_s
        self.deadlines: list[float | None] = []

    def recognize(self, image: np.ndarray, *, psm: int = 6,
                  dpi: float | None = None) -> Recognition:
        self.deadlines.append(self.deadline)
        timeout = self.call_timeout_s()
        time.sleep(min(self.seconds, timeout))
        if self.seconds > timeout:
            raise EngineTimeout(detail=f"slow engine stopped after {timeout:g} s")
        return Recognition("")

    def line_confidence(self, image: np.ndarray) -> float:
        return 0.0

    def detect_orientation(self, image: np.ndarray) -> tuple[int, float] | None:
        return None


def test_a_document_of_slow_pages_is_stopped_at_its_limit() -> None:
    settings = OcrSettings(dpi=100, page_timeout_s=60, document_timeout_s=0.5)
    pipeline = Pipeline(settings, engine=SlowEngine(0.3))  # type: ignore[arg-type]
    data = scan_pdf([page_pixels(i) for i in range(5)])
    with pytest.raises(DocumentTimeout) as info:
        pipeline.process(data, "acte", source="d.pdf")
    assert info.value.source == "d.pdf" and not info.value.permanent


def test_a_page_read_ahead_has_its_own_time_not_what_the_page_before_left(
        monkeypatch: pytest.MonkeyPatch) -> None:
    real = pages._read_pdf_page_alone

    def slow(*args: object) -> object:  # runs in the reading child, which inherits it
        time.sleep(0.7)
        return real(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(pages, "_read_pdf_page_alone", slow)
    settings = OcrSettings(dpi=100, page_timeout_s=1.2, document_timeout_s=3600)
    pipeline = Pipeline(settings, engine=SlowEngine(0.0))  # type: ignore[arg-type]
    # One child reads both pages: 1.4 s in all, 0.7 s each, within 1.2 s a page.
    result = pipeline.process(scan_pdf([page_pixels(1), page_pixels(2)]), "acte",
                              source="p.pdf")
    assert result.pages == 2


def test_recognition_gets_what_rendering_left_of_the_page_time() -> None:
    engine = SlowEngine(0.0)
    started = time.monotonic()
    Pipeline(OcrSettings(dpi=100, page_timeout_s=30), engine=engine).process(  # type: ignore[arg-type]
        scan_pdf([page_pixels(1)]), "acte", source="p.pdf")
    (deadline,) = set(engine.deadlines)
    assert deadline is not None and started < deadline <= time.monotonic() + 30
    assert engine.deadline is None  # cleared once the page is read


def test_an_engine_call_after_the_page_time_is_spent_times_out_at_once() -> None:
    engine = SlowEngine(0.0)
    engine.set_deadline(time.monotonic() - 1)
    with pytest.raises(EngineTimeout):
        engine.call_timeout_s()
    engine.set_deadline(None)
    assert engine.call_timeout_s() == 60.0


def test_a_one_page_document_over_its_time_is_a_page_timeout() -> None:
    settings = OcrSettings(dpi=100, page_timeout_s=0.3, document_timeout_s=3600)
    pipeline = Pipeline(settings, engine=SlowEngine(1.0, timeout_s=0.3))  # type: ignore[arg-type]
    with pytest.raises(EngineTimeout):
        pipeline.process(scan_pdf([page_pixels(1)]), "acte", source="p.pdf")


def test_waiting_for_a_rate_limit_between_pages_is_not_the_document_time() -> None:
    settings = OcrSettings(dpi=100, page_timeout_s=60, document_timeout_s=0.5)
    pipeline = Pipeline(settings, engine=SlowEngine(0.0))  # type: ignore[arg-type]
    result = pipeline.process(scan_pdf([page_pixels(i) for i in range(3)]), "acte",
                              source="r.pdf", on_page=lambda done: time.sleep(0.3))
    assert result.pages == 3


@pytest.mark.parametrize("name", ["b.pdf", "b.tif"])
def test_a_long_run_of_blank_pages_stops_the_document_with_its_reason(name: str) -> None:
    pipeline = Pipeline(OcrSettings(dpi=50), engine=SlowEngine(0.0))  # type: ignore[arg-type]
    white = np.full((200, 150), 255, np.uint8)
    data = (blank_pages(BLANK_RUN + 5) if name.endswith(".pdf")
            else image_bytes([white] * (BLANK_RUN + 5), "TIFF"))
    with pytest.raises(BlankPages) as info:
        pipeline.process(data, "acte", source=name)
    assert info.value.permanent


def test_blank_pages_up_to_the_run_are_read_to_the_end() -> None:
    pipeline = Pipeline(OcrSettings(dpi=50), engine=SlowEngine(0.0))  # type: ignore[arg-type]
    assert pipeline.process(blank_pages(BLANK_RUN), "acte", source="b.pdf").pages == BLANK_RUN


def clock_spent(pages: int, limit_s: float, spent_s: float) -> DocumentClock:
    return DocumentClock(pages, page_timeout_s=10, limit_s=limit_s,
                         started=time.monotonic() - spent_s)


def test_pages_whose_pace_would_carry_the_document_far_past_its_limit_stop_it_early() -> None:
    # 1,999 pages of 9 s each would take five hours against a limit of one.
    clock = clock_spent(1999, limit_s=3600, spent_s=PACE_PAGES * 9)
    assert clock.pace_over(PACE_PAGES)


def test_a_pace_within_the_limit_or_too_few_pages_to_judge_stops_nothing() -> None:
    assert not clock_spent(1999, 3600, spent_s=PACE_PAGES * 1).pace_over(PACE_PAGES)
    assert not clock_spent(1999, 3600, spent_s=9 * (PACE_PAGES - 1)).pace_over(PACE_PAGES - 1)
    # Uncapped, every page has its whole timeout: no pace a page can keep is over.
    assert not clock_spent(20, 200, spent_s=PACE_PAGES * 10).pace_over(PACE_PAGES)
