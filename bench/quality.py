"""OCR quality: ocrmp's pipeline beside raw tesseract and OCRmyPDF, on the same pages.

    .venv/bin/python bench/quality.py [--pages 6] [--seed 500] [--no-ocrmypdf]
    .venv/bin/python bench/quality.py --real ../shared/corpus [--no-generated] [--only RE]
    .venv/bin/python bench/quality.py --ledgers 2 [--no-generated]

Every generated layout (letters, verse, columns, reports, each ledger format, tilted
ledgers) on seeds of one half of the split, the CLI and the bare engine beside ocrmp:
bench/generated.py.

With `--real ROOT`, the real scans under ROOT (see bench/realcorpus.py for the layouts and
the scores) are read by ocrmp, the tesseract CLI with its defaults, and OCRmyPDF with
`--rotate-pages --deskew`; the report gives CER and bag-of-words error per collection and
per page, seconds per page, and the pages where ocrmp loses to a peer, worst first.

For each kind (acte, index) and condition (clean, degraded) the corpus generator draws
`--pages` pages with ground truth; one PDF of them goes through ocrmp's `Pipeline`, through
OCRmyPDF (`--force-ocr --sidecar`, same language), and each page image through the
`tesseract` binary with its defaults. CER is Levenshtein distance over reference length,
whitespace collapsed, summed over pages; WER the same over words. On index pages the " | "
cell separators that only ocrmp writes are removed from every text before scoring, so the
others are not charged for them. Row fields: share of (row, key) values exactly right.
"""

from __future__ import annotations

import argparse
import os
import shlex
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

os.environ.setdefault("OMP_THREAD_LIMIT", "1")

from ledgers import cell_score, measure_ledgers, report_ledgers  # noqa: E402
from realcorpus import ocrmypdf_binary  # noqa: E402
from realscores import measure_real, report_real  # noqa: E402

from ocrmp.config import ocr_from_env  # noqa: E402
from ocrmp.corpus import (  # noqa: E402
    GeneratedPage,
    acte_page,
    benchmark_corpus,
    index_page,
    levenshtein,
    write_pdf,
)
from ocrmp.ocr.pipeline import Pipeline  # noqa: E402
from ocrmp.ocr.records import parties  # noqa: E402

KINDS: dict[str, Callable[..., GeneratedPage]] = {"acte": acte_page, "index": index_page}
TARGETS = {("acte", "degraded"): 0.02, ("index", "degraded"): 0.05,
           ("acte", "clean"): 0.005, ("index", "clean"): 0.005}


@dataclass
class Score:
    edits: int = 0
    chars: int = 0
    word_edits: int = 0
    words: int = 0
    seconds: float = 0.0
    fields_right: int = 0
    fields: int = 0
    extra: list[str] = field(default_factory=list)

    def add(self, reference: str, hypothesis: str, kind: str) -> None:
        ref, hyp = _normal(reference, kind), _normal(hypothesis, kind)
        self.edits += levenshtein(ref, hyp)
        self.chars += len(ref)
        self.word_edits += word_distance(ref.split(), hyp.split())
        self.words += len(ref.split())

    @property
    def cer(self) -> float:
        return self.edits / max(1, self.chars)

    @property
    def wer(self) -> float:
        return self.word_edits / max(1, self.words)


def _normal(text: str, kind: str) -> str:
    if kind == "index":
        text = text.replace(" | ", " ").replace("|", " ")
    return " ".join(text.split())


def word_distance(ref: Sequence[str], hyp: Sequence[str]) -> int:
    previous = list(range(len(hyp) + 1))
    for i, word in enumerate(ref, 1):
        current = [i]
        for j, other in enumerate(hyp, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1,
                               previous[j - 1] + (word != other)))
        previous = current
    return previous[-1]


def run_ocrmp(pipeline: Pipeline, pdf: Path, kind: str,
              pages: list[GeneratedPage]) -> Score:
    score = Score()
    started = time.perf_counter()
    result = pipeline.process(pdf.read_bytes(), kind, source=str(pdf))
    score.seconds = time.perf_counter() - started
    for page, got in zip(pages, result.page_results, strict=True):
        score.add(page.text, got.text, kind)
        right, total = cell_score([_as_record(truth) for truth in page.rows], got.rows or [])
        score.fields_right += right
        score.fields += total
    return score


def _as_record(truth: dict[str, Any]) -> dict[str, Any]:
    """A generated row as a record prints it: the parties printed on one line ("Roy, Luc
    à Côté, Marie") as the list of their names, each field compared as ledgers are."""
    printed = truth.get("parties")
    if isinstance(printed, str):
        return {**truth, "parties": parties([printed], [], None)}
    return truth


def run_tesseract(folder: Path, pages: list[GeneratedPage], kind: str) -> Score:
    from PIL import Image

    score = Score()
    for i, page in enumerate(pages):
        image = folder / f"raw{i}.png"
        Image.fromarray(page.image).save(image, dpi=(page.dpi, page.dpi))
        started = time.perf_counter()
        done = subprocess.run(["tesseract", str(image), "stdout", "-l", "fra"],
                              capture_output=True, text=True, check=True,
                              env={**os.environ, "OMP_THREAD_LIMIT": "1"})
        score.seconds += time.perf_counter() - started
        score.add(page.text, done.stdout, kind)
    return score


def run_ocrmypdf(binary: str, pdf: Path, pages: list[GeneratedPage], kind: str) -> Score:
    score = Score()
    sidecar = pdf.with_suffix(".txt")
    started = time.perf_counter()
    done = subprocess.run([binary, "--force-ocr", "--rotate-pages", "--deskew",
                           "--sidecar", str(sidecar), "-l", "fra",
                           "--output-type", "pdf", "-j", "1", str(pdf),
                           str(pdf.with_suffix(".ocr.pdf"))], capture_output=True, text=True,
                          check=False)
    score.seconds = time.perf_counter() - started
    if done.returncode != 0:
        score.extra.append(f"ocrmypdf failed ({done.returncode}): {done.stderr[-300:]}")
        return score
    texts = sidecar.read_text().split("\f")
    for page, text in zip(pages, texts, strict=False):
        score.add(page.text, text, kind)
    return score


def generated(kind: str, condition: str, count: int, seed: int) -> list[GeneratedPage]:
    """Clean and degraded pages as before; the other conditions from `benchmark_corpus`
    (turned, 100-150 dpi, fax, colour, light ink, stamps and handwriting)."""
    if condition in ("clean", "degraded"):
        return [KINDS[kind](seed + i, degrade=condition == "degraded") for i in range(count)]
    return benchmark_corpus(count, kind, seed=seed, condition=condition)


def measure(args: argparse.Namespace, folder: Path) -> list[tuple[str, str, str, Score]]:
    pipeline = Pipeline(ocr_from_env(os.environ))
    ocrmypdf = None if args.no_ocrmypdf else ocrmypdf_binary()
    rows = []
    for kind in KINDS:
        for condition in args.conditions:
            if kind == "index" and condition not in ("clean", "degraded"):
                continue  # ledgers under every condition: --ledgers
            pages = generated(kind, condition, args.pages, args.seed)
            pdf = folder / f"{kind}-{condition}.pdf"
            write_pdf(pages, pdf)  # each page at its own resolution
            rows.append((kind, condition, "ocrmp", run_ocrmp(pipeline, pdf, kind, pages)))
            rows.append((kind, condition, "tesseract", run_tesseract(folder, pages, kind)))
            if ocrmypdf:
                rows.append((kind, condition, "ocrmypdf",
                             run_ocrmypdf(ocrmypdf, pdf, pages, kind)))
            print(f"# done {kind} {condition}", file=sys.stderr)
    return rows


def report(rows: list[tuple[str, str, str, Score]], pages: int) -> None:
    print("| kind | condition | system | CER | WER | row fields exact | s/page | target CER |")
    print("|---|---|---|---|---|---|---|---|")
    for kind, condition, system, score in rows:
        fields = f"{score.fields_right / score.fields:.1%}" if score.fields else "-"
        target = TARGETS.get((kind, condition)) if system == "ocrmp" else None
        verdict = "" if target is None else f"≤ {target:.1%} " + (
            "met" if score.cer <= target else "MISSED")
        print(f"| {kind} | {condition} | {system} | {score.cer:.2%} | {score.wer:.2%} | "
              f"{fields} | {score.seconds / pages:.2f} | {verdict} |")
        for note in score.extra:
            print(f"#   {system}: {note}")


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=6, help="pages per kind and condition")
    parser.add_argument("--seed", type=int, default=500)
    parser.add_argument("--no-ocrmypdf", action="store_true")
    parser.add_argument("--conditions", type=lambda v: v.split(","),
                        default=["clean", "degraded"],
                        help="generated conditions, comma-separated: clean, degraded, and "
                             "for deeds rotated, low-dpi, fax, colour, light-ink, marks")
    parser.add_argument("--real", type=Path, metavar="ROOT",
                        help="also score the real scans under ROOT (e.g. ../shared/corpus)")
    parser.add_argument("--no-generated", action="store_true",
                        help="skip the generated pages")
    parser.add_argument("--only", metavar="RE", help="real pages whose collection/name match")
    parser.add_argument("--half", choices=("tuning", "checking"),
                        help="real pages of one half only (bench/halves.py)")
    parser.add_argument("--index", default="catalogue", metavar="RE",
                        help="real collections read as index ledgers (default: catalogue)")
    parser.add_argument("--peer-cache", type=Path, metavar="DIR",
                        help="reuse the peers' readings of unchanged pages from DIR")
    parser.add_argument("--no-peers", action="store_true", help="real pages: ocrmp alone")
    parser.add_argument("--ledgers", type=int, default=0, metavar="N",
                        help="also N generated pages per ledger format and condition")
    args = parser.parse_args(argv)
    print("# " + " ".join([shlex.quote(sys.executable), *map(shlex.quote, sys.argv)]))
    if not args.no_generated:
        print(f"# {args.pages} pages per kind and condition, seeds {args.seed}..")
        with tempfile.TemporaryDirectory(prefix="ocrmp-quality-") as folder:
            report(measure(args, Path(folder)), args.pages)
    if args.ledgers:
        pipeline = Pipeline(ocr_from_env(os.environ))
        report_ledgers(measure_ledgers(pipeline, args.ledgers, args.seed), args.ledgers)
    if args.real is not None:
        report_real(measure_real(args))


if __name__ == "__main__":
    main()
