"""What a worker runs for a job: the OCR pipeline, or a runner named by module path.

The pool knows nothing of OCR beyond this: `run(job, progress) -> Outcome`, raising a
JobError (permanent or transient) when the document cannot be done.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, cast

from ocrmp.config import Settings
from ocrmp.errors import ConfigError
from ocrmp.store import Job

if TYPE_CHECKING:
    from ocrmp.ocr.pipeline import OcrResult

Progress = Callable[[int], None]  # called with the number of pages done so far


@dataclass
class Outcome:
    text: str
    result: dict[str, Any]
    pages: int


class JobRunner(Protocol):
    def run(self, job: Job, progress: Progress) -> Outcome: ...


class OcrRunner:
    """The real pipeline: fetch the document from storage, OCR it page by page."""

    def __init__(self, settings: Settings) -> None:
        from ocrmp.ocr.pipeline import Pipeline
        from ocrmp.ocr.storage import LocalStorage, open_storage

        root = settings.storage_root
        ocr = replace(settings.ocr, storage_root=str(root)) if root else settings.ocr
        self.storage = open_storage(ocr)
        self.pipeline = Pipeline(ocr)
        self.outputs = settings.outputs
        # Outputs go to a storage directory only (the settings refuse them otherwise).
        self.writable = self.storage if isinstance(self.storage, LocalStorage) else None

    def run(self, job: Job, progress: Progress) -> Outcome:
        # A local file is read page by page, through the one descriptor it was opened and
        # checked by; a remote one has to be fetched whole.
        opener = getattr(self.storage, "open", None)
        if opener is None:
            return self._process(self.storage.fetch(job.supabase_path), job, progress)
        with opener(job.supabase_path) as document:
            return self._process(document.path, job, progress)

    def _process(self, data: bytes | Path, job: Job, progress: Progress) -> Outcome:
        result = self.pipeline.process(data, job.kind, source=job.supabase_path, on_page=progress)
        stored = result.to_json()
        if self.outputs:
            stored["outputs"] = self._store_outputs(job.supabase_path, data, result)
        return Outcome(text=result.text, result=stored, pages=result.pages)

    def _store_outputs(self, source: str, data: bytes | Path,
                       result: OcrResult) -> dict[str, str]:
        """Each output written beside the document; their paths in storage, by format. A
        searchable PDF is made of a PDF only: an image document gets the others."""
        from ocrmp.outputs import SUFFIXES, is_pdf, render
        from ocrmp.outputs.errors import OutputNotWritten

        assert self.writable is not None
        paths: dict[str, str] = {}
        for fmt in self.outputs:
            if fmt == "pdf" and not is_pdf(data):
                continue
            rendered = render(fmt, result, source=source, document=data)
            try:
                paths[fmt] = self.writable.store_beside(source, SUFFIXES[fmt], rendered)
            except OSError as exc:
                raise OutputNotWritten(source, f"{fmt}: {exc.strerror or exc}") from None
        return paths


def resolve_runner(ref: str) -> Callable[[], JobRunner]:
    """The runner named `module:attr[:argument]` (OCRMP_RUNNER, `--runner`), ready to make:
    test doubles and benchmarks bring their own, and `attr` is called with the argument.
    ConfigError when it cannot be found."""
    module_name, _, rest = ref.partition(":")
    attr, _, argument = rest.partition(":")
    if not module_name or not attr:
        raise ConfigError(f"OCRMP_RUNNER={ref!r} is invalid: expected module:attr[:argument]")
    try:
        factory = getattr(importlib.import_module(module_name), attr)
    except (ImportError, AttributeError) as error:
        raise ConfigError(f"OCRMP_RUNNER={ref!r} is invalid: {error}") from None
    if not callable(factory):
        raise ConfigError(f"OCRMP_RUNNER={ref!r} is invalid: {attr} is not callable")
    return lambda: cast(JobRunner, factory(argument))


def load_runner(settings: Settings) -> JobRunner:
    """The runner a worker loads once at boot: the OCR pipeline, or the one named."""
    if settings.runner is None:
        return OcrRunner(settings)
    return resolve_runner(settings.runner)()
