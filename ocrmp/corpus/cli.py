"""`python -m ocrmp.corpus`: write generated documents and their truth to a folder."""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from dataclasses import asdict, fields
from pathlib import Path
from typing import Any

from ocrmp.corpus.acte import LAYOUTS
from ocrmp.corpus.formats import FORMATS
from ocrmp.corpus.page import GeneratedPage
from ocrmp.corpus.sets import CONDITIONS, benchmark_corpus, make_document
from ocrmp.corpus.writers import write_pdf


def page_truth(page: GeneratedPage) -> dict[str, Any]:
    """Everything known about a page but its pixels, as JSON-ready values."""
    truth = {f.name: getattr(page, f.name) for f in fields(page) if f.name != "image"}
    truth["marks"] = [asdict(mark) for mark in page.marks]
    truth["shape"] = list(page.image.shape)
    return truth


def _write(stem: Path, kind: str, made: list[GeneratedPage], full: bool) -> None:
    write_pdf(made, stem.with_suffix(".pdf"))
    truth = "\n\n".join(page.text for page in made)
    stem.with_suffix(".truth.txt").write_text(truth + "\n", encoding="utf-8")
    if kind == "index":
        stem.with_suffix(".rows.json").write_text(
            json.dumps([page.rows for page in made], ensure_ascii=False, indent=1),
            encoding="utf-8")
    if full:
        stem.with_suffix(".pages.json").write_text(
            json.dumps([page_truth(page) for page in made], ensure_ascii=False, indent=1),
            encoding="utf-8")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m ocrmp.corpus", description="Write synthetic registry PDFs and truth.")
    parser.add_argument("outdir", type=Path)
    parser.add_argument("--acte", type=int, default=0, help="number of acte documents")
    parser.add_argument("--index", type=int, default=0, help="number of index documents")
    parser.add_argument("--pages", type=int, default=1, help="pages per document")
    parser.add_argument("--degrade", action="store_true", help="age the scans")
    parser.add_argument("--seed", type=int, default=0, help="seed of the first document")
    parser.add_argument("--condition", choices=CONDITIONS,
                        help="scan condition of every page (pages then come from the "
                             "benchmark corpus; --degrade is ignored)")
    parser.add_argument("--format", choices=sorted(FORMATS), help="ledger format (index)")
    parser.add_argument("--layout", choices=LAYOUTS, help="layout of the acte pages: a deed, "
                        "a letter, verse, columns, a report (not with --condition)")
    parser.add_argument("--json", action="store_true",
                        help="also write NAME.pages.json: every page's whole ground truth")
    return parser


def main(argv: Sequence[str] | None = None) -> None:
    args = _parser().parse_args(argv)
    args.outdir.mkdir(parents=True, exist_ok=True)
    for kind, count in (("acte", args.acte), ("index", args.index)):
        for n in range(count):
            seed = args.seed + n
            if args.condition:
                made = benchmark_corpus(args.pages, kind, seed=seed, condition=args.condition,
                                        format=args.format if kind == "index" else None)
            else:
                extra = {"format": args.format} if kind == "index" and args.format else {}
                if kind == "acte" and args.layout:
                    extra = {"layout": args.layout}
                made, _ = make_document(kind, seed, args.pages, args.degrade, **extra)
            _write(args.outdir / f"{kind}_{seed:04d}", kind, made, args.json)
