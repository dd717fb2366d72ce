"""What a worker runs for a job: the OCR pipeline, or a runner named by module path.

The pool knows nothing of OCR beyond this: `run(job, progress) -> Outcome`, raising a
JobError (permanent or transient) when the document cannot be done.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, Protocol, cast

from ocrmp.config import Settings
from ocrmp.errors import ConfigError
from ocrmp.store import Job

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
        from ocrmp.ocr.storage import open_storage

        root = settings.storage_root
        ocr = replace(settings.ocr, storage_root=str(root)) if root else settings.ocr
        self.storage = open_storage(ocr)
        self.pipeline = Pipeline(ocr)

    def run(self, job: Job, progress: Progress) -> Outcome:
        # A local file is read page by page; a remote one has to be fetched whole.
        locate = getattr(self.storage, "locate", None)
        data = locate(job.supabase_path) if locate else self.storage.fetch(job.supabase_path)
        result = self.pipeline.process(data, job.kind, source=job.supabase_path, on_page=progress)
        return Outcome(text=result.text, result=result.to_json(), pages=result.pages)


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
