"""A document's pages read in children, a few at a time, each page bounded on its own.

One child reads pages one after another until their pixels fill READ_AHEAD_BYTES
(`bounded.run_each`): a fork from a worker costs a few milliseconds more than reading in
the worker would, and each page read ahead holds its pixels until the reader takes it
(bench/RESULTS.md weighs both). A page running past its deadline is named and the child
killed; a page that brings a child down is read again alone before it is blamed.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from typing import TypeVar, cast

from ocrmp.ocr.bounded import Budget, Died, TimedOut, run_each
from ocrmp.ocr.errors import PageTooComplex, RenderTimeout
from ocrmp.ocr.settings import OcrSettings

# Two 300-dpi letter pages of grey pixels.
READ_AHEAD_BYTES = 16 * 2**20

Page = TypeVar("Page")


def read_pages(read: Callable[[int], Page], count: int, settings: OcrSettings, source: str,
               budget: Budget | None) -> Iterator[Page]:
    """`read(index)` of each page in order, in children; `budget()` seconds a page."""
    budget = budget or (lambda: settings.page_timeout_s)
    index = 0
    while index < count:
        for page in _read_run(read, range(index, count), settings, source, budget):
            index += 1
            yield page  # only the consumer may hold this page while the next are read
            del page


def _read_run(read: Callable[[int], Page], indexes: range, settings: OcrSettings,
              source: str, budget: Budget) -> Iterator[Page]:
    """The pages from `indexes.start` on, as many as one child reads before its results
    hold READ_AHEAD_BYTES, each killed at its own deadline.

    A child that dies on a page after the first of its run is not blamed on that page at
    once: what the pages before it left behind counts against the cap too, so the page
    is read again in a child of its own, as it would have been alone.
    """
    calls = [functools.partial(read, index) for index in indexes]
    outcomes = run_each(calls, budget=budget, memory_bytes=settings.render_memory_bytes,
                        max_bytes=READ_AHEAD_BYTES)
    for index, outcome in zip(indexes, outcomes, strict=False):
        if isinstance(outcome, Died) and index > indexes.start:
            outcome = run_each([calls[index - indexes.start]], budget=budget,
                               memory_bytes=settings.render_memory_bytes, max_bytes=0)[0]
        if isinstance(outcome, BaseException):
            raise page_error(outcome, settings, source, index) from None
        yield cast(Page, outcome)


def page_error(error: BaseException, settings: OcrSettings, source: str,
               index: int) -> BaseException:
    """What a page's outcome in the child means here: its own error, or the child's."""
    if isinstance(error, TimedOut):
        return RenderTimeout(f"{source} page {index + 1}",
                             f"stopped after {error.seconds:.3g} s")
    if isinstance(error, Died):
        cap_mb = settings.render_memory_bytes // 2**20
        return PageTooComplex(source, f"page {index + 1}: the renderer, capped at {cap_mb} MB, "
                                      f"was {error}")
    return error
