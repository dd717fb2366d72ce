"""How long a document may take: each page within the page timeout, the whole within
pages × page timeout, capped by the document timeout.

Reading a page and recognising it each have the page timeout: pages are read ahead, in a
child, before the recognition of the page before them ends, so the two cannot share one
deadline; the whole document's limit still holds them together. The heartbeat a worker sends
after each page keeps the pool's job timeout from firing on a slow document, so without
the whole-document limit a thousand slow pages would hold a worker for a day.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from dataclasses import dataclass

from ocrmp.ocr.settings import OcrSettings

# Pages in a row that read as blank before a document is stopped: far more than the backs
# of a scanned deed, far fewer than the thousands a file of empty pages holds.
BLANK_RUN = 25
# A document whose pages read so far, at their pace, would carry it this far past its limit
# is stopped then, not when the limit runs out (an hour on each attempt): judged after
# `PACE_PAGES` pages, so that one slow first page decides nothing.
PACE_OVER = 2.0
PACE_PAGES = 5


def blank_run_over(run: int, done: int, pages: int) -> bool:
    """Whether the last `run` pages read, all blank, stop the document: pages remain, and
    the run is as long as no real document's."""
    return run >= BLANK_RUN and done < pages


def document_limit_s(pages: int, settings: OcrSettings) -> float:
    return min(max(pages, 1) * settings.page_timeout_s, settings.document_timeout_s)


@dataclass
class DocumentClock:
    pages: int
    page_timeout_s: float
    limit_s: float
    started: float  # time.monotonic()
    page_deadline: float = 0.0

    @classmethod
    def start(cls, pages: int, settings: OcrSettings) -> DocumentClock:
        return cls(pages, settings.page_timeout_s, document_limit_s(pages, settings),
                   time.monotonic())

    @property
    def deadline(self) -> float:
        return self.started + self.limit_s

    def next_page(self) -> float:
        """Start the next page's recognition: the seconds it may take (0 when the document
        is over)."""
        now = time.monotonic()
        self.page_deadline = min(now + self.page_timeout_s, self.deadline)
        return max(0.0, self.page_deadline - now)

    def page_left(self) -> float:
        """Seconds the page being read has left."""
        return max(0.0, self.page_deadline - time.monotonic())

    def page_allowance(self) -> float:
        """Seconds a page started now may take: its timeout, within the document's limit.
        A page read ahead, in the child of the page before it, starts when that one ends,
        not when the reader takes it."""
        return max(0.0, min(self.page_timeout_s, self.deadline - time.monotonic()))

    def document_over(self) -> bool:
        """Whether the document's limit, not the page's own, is what ran out. Uncapped,
        the limit gives every page its whole timeout, so a page ran over its own."""
        capped = self.limit_s < self.pages * self.page_timeout_s
        return capped and time.monotonic() >= self.deadline

    @contextlib.contextmanager
    def paused(self) -> Iterator[None]:
        """Time that is not the document's work (waiting for a rate limit's turn)."""
        paused_at = time.monotonic()
        try:
            yield
        finally:
            self.started += time.monotonic() - paused_at

    def spent_s(self) -> float:
        return time.monotonic() - self.started

    def pace_over(self, done: int) -> bool:
        """Whether the `done` pages read so far, at their pace, would carry the document
        `PACE_OVER` times past its limit. Only a capped limit can be: uncapped, every page
        has its whole timeout, and no page takes longer."""
        if done < PACE_PAGES or done >= self.pages:
            return False
        return self.spent_s() / done * self.pages > PACE_OVER * self.limit_s
