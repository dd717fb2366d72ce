"""One document, bytes in, text and JSON out: pages -> preprocess -> engine -> result.

The pipeline knows nothing of processes or SQL; a pool worker builds one `Pipeline` (which
loads the engine once) and calls `process` for each job.

`OcrResult.text` joins the pages in order with a line holding only a form feed
(`PAGE_SEPARATOR`), tesseract's own page break: one character a reader can split on and
that no page text contains.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from ocrmp.ocr.deed import read_deed
from ocrmp.ocr.engines import Engine, load_engine
from ocrmp.ocr.errors import (
    BlankPages,
    DocumentTimeout,
    EngineCrashed,
    EngineTimeout,
    RenderTimeout,
    UnsupportedKind,
)
from ocrmp.ocr.ledger import read_ledger
from ocrmp.ocr.limits import DocumentClock, blank_run_over
from ocrmp.ocr.page import Page
from ocrmp.ocr.pages import Document, PageImage, PageText, count_pages, iter_pages
from ocrmp.ocr.result import PageResult, page_result
from ocrmp.ocr.settings import OcrSettings
from ocrmp.vocabulary import Kind

PAGE_SEPARATOR = "\n\f\n"

# A reader is the sequence of steps that reads one kind of page (deed.py, ledger.py).
PageReader = Callable[[Page, Engine, OcrSettings], None]
_READERS: dict[str, PageReader] = {Kind.ACTE: read_deed, Kind.INDEX: read_ledger}


@dataclass
class OcrResult:
    kind: str
    engine: str
    page_results: list[PageResult] = field(default_factory=list)
    elapsed_ms: float = 0.0

    @property
    def pages(self) -> int:
        return len(self.page_results)

    @property
    def text(self) -> str:
        return PAGE_SEPARATOR.join(page.text for page in self.page_results)

    @property
    def mean_confidence(self) -> float:
        read = [p.confidence for p in self.page_results if p.text.strip()]
        return sum(read) / len(read) if read else 0.0

    @property
    def low_confidence_pages(self) -> list[int]:
        return [p.index + 1 for p in self.page_results if p.low_confidence]

    @property
    def flagged_pages(self) -> list[int]:
        return [p.index + 1 for p in self.page_results if p.flags]

    def flag_counts(self) -> dict[str, int]:
        """Pages per flag: what `ocrmp review` and the metrics count."""
        counts: dict[str, int] = {}
        for page in self.page_results:
            for flag in page.flags:
                counts[str(flag)] = counts.get(str(flag), 0) + 1
        return counts

    def to_json(self) -> dict[str, object]:
        return {
            "kind": self.kind,
            "engine": self.engine,
            "pages": self.pages,
            "mean_confidence": round(self.mean_confidence, 2),
            "low_confidence_pages": self.low_confidence_pages,
            "flagged_pages": self.flagged_pages,
            "flags": self.flag_counts(),
            "elapsed_ms": round(self.elapsed_ms, 1),
            "page_results": [page.to_json() for page in self.page_results],
        }


def text_layer_result(page: PageText) -> PageResult:
    """A born-digital page: its own text, nothing recognised, nothing to doubt."""
    return PageResult(index=page.index, text=page.text, confidence=100.0,
                      width=round(page.width_pt), height=round(page.height_pt), dpi=72.0,
                      low_confidence=False, source="text_layer")


class Pipeline:
    def __init__(self, settings: OcrSettings, engine: Engine | None = None) -> None:
        self.settings = settings
        self.engine = engine if engine is not None else load_engine(settings)

    def process(self, data: Document, kind: str, *, source: str,
                on_page: Callable[[int], None] | None = None) -> OcrResult:
        """OCR one document; `on_page(n)` is called after each page (n pages done)."""
        reader = _READERS.get(kind)
        if reader is None:
            raise UnsupportedKind(source, repr(kind))
        started = time.perf_counter()
        result = OcrResult(kind=kind, engine=self.engine.name)
        count = count_pages(data, source=source, settings=self.settings)
        clock = DocumentClock.start(count, self.settings)
        blank = 0  # pages in a row read as blank, so far
        try:
            for page in self._pages(data, source, clock):
                result.page_results.append(self._read(reader, page, source, clock))
                del page  # drop the pixels before the next page is decoded, not after
                blank = 0 if result.page_results[-1].text.strip() else blank + 1
                if blank_run_over(blank, result.pages, clock.pages):
                    raise BlankPages(source, f"pages {result.pages - blank + 1} to "
                                             f"{result.pages} of {clock.pages} are blank")
                if clock.pace_over(result.pages):
                    raise self._overtime(source, clock, result.pages)
                if on_page is not None:
                    with clock.paused():
                        on_page(result.pages)
        except (RenderTimeout, EngineTimeout) as exc:
            if clock.document_over():
                raise self._overtime(source, clock, result.pages) from exc
            raise
        result.elapsed_ms = (time.perf_counter() - started) * 1000
        return result

    def _read(self, reader: PageReader, page: PageImage | PageText, source: str,
              clock: DocumentClock) -> PageResult:
        if isinstance(page, PageText):
            return text_layer_result(page)
        clock.next_page()  # read ahead or not, its recognition has the page's time
        self.engine.set_deadline(clock.page_deadline)
        try:
            read = Page.of(page)
            with read.timed("page"):
                reader(read, self.engine, self.settings)
            return page_result(read)
        except (EngineTimeout, EngineCrashed) as exc:
            # The engine cannot know which document it was reading: name it here.
            raise type(exc)(f"{source} page {page.index + 1}", exc.detail) from None
        finally:
            self.engine.set_deadline(None)

    def _pages(self, data: Document, source: str,
               clock: DocumentClock) -> Iterator[PageImage | PageText]:
        pages = iter_pages(data, settings=self.settings, source=source,
                           budget=clock.page_allowance, count=clock.pages)
        done = 0
        while True:
            if clock.page_allowance() <= 0 and done < clock.pages:
                raise self._overtime(source, clock, done)
            try:
                page = next(pages)
            except StopIteration:
                return
            yield page
            del page
            done += 1

    @staticmethod
    def _overtime(source: str, clock: DocumentClock, done: int) -> DocumentTimeout:
        return DocumentTimeout(source, f"stopped after {done} of {clock.pages} pages in "
                                       f"{clock.spent_s():.0f} s, limit {clock.limit_s:.0f} s")
