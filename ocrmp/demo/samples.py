"""The demo's sample documents: degraded registry pages drawn from the synthetic corpus
(`ocrmp.corpus`), so every page has a ground truth, written as PDFs under the storage root
and enqueued."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ocrmp.demo.store import DemoStore
from ocrmp.vocabulary import MODES, Kind

FILE_PREFIX = "demo-"  # every sample's file name starts so; --fresh deletes only those rows
FIRST_SEED = 7001  # fixed seeds: every run draws the same pages, so results compare

Say = Callable[[str], None]


@dataclass(frozen=True)
class Sample:
    kind: str
    document_number: str
    supabase_path: str
    pages: int
    truth: str


def plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def demo_prefixes() -> list[str]:
    return [f"{kind}/{FILE_PREFIX}" for kind in MODES]


def registry_number(seed: int) -> str:
    """A 7-digit number grouped by thousands with spaces, as the registry prints them."""
    number = int(np.random.default_rng(seed).integers(1_000_000, 9_999_999))
    return f"{number:,}".replace(",", " ")


def sample_plan(documents: int) -> list[tuple[str, int]]:
    """(kind, seed) per document: kinds alternate, so both worker modes get work."""
    kinds = (Kind.ACTE, Kind.INDEX)
    return [(kinds[i % 2], FIRST_SEED + i) for i in range(documents)]


def make_sample(kind: str, seed: int, pages: int, root: Path) -> Sample:
    """Draw one degraded document, write its PDF and truth under root, return what it is."""
    from ocrmp.corpus import make_document, write_pdf

    made, truth = make_document(kind, seed, pages, degrade=True)
    number = registry_number(seed)
    relative = f"{kind}/{FILE_PREFIX}{number.replace(' ', '')}.pdf"
    target = root / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    # JPEG inside the PDF, as scanners write them: ten times smaller than lossless.
    write_pdf([page.image for page in made], target, jpeg_quality=90)
    target.with_suffix(".truth.txt").write_text(truth + "\n", encoding="utf-8")
    return Sample(kind, number, relative, pages, truth)


def prepare_samples(store: DemoStore, documents: int, pages: int, root: Path,
                    say: Say) -> dict[str, Sample]:
    """Generate and enqueue the samples; return them by job id."""
    samples: dict[str, Sample] = {}
    for kind, seed in sample_plan(documents):
        sample = make_sample(kind, seed, pages, root)
        job_id = store.enqueue(sample.kind, sample.supabase_path, sample.document_number)
        samples[job_id] = sample
        say(f"enqueued   {sample.kind:<6} {sample.document_number}  {sample.supabase_path} "
            f"({plural(sample.pages, 'page')})")
    return samples
