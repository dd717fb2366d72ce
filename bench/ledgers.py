"""The ledger part of bench/quality.py: generated index pages of every printed format.

For each format of `ocrmp.corpus.FORMATS` that is printed or typed, `--ledgers N` pages in
each of the conditions below go through ocrmp's pipeline (as a PDF, as the pool reads
them) and each page image through the tesseract CLI with its defaults. Scores per format:

- rows: pages on which every printed row was found (as many records as printed rows);
- cells: the share of (row, printed field) values exactly right, whitespace collapsed;
  number fields (numero, radiations, avis d'adresse) compared without their spaces
  (ocrmp re-spaces registration numbers in threes),
  dates and natures as read (`date_text`, `nature_text` when ocrmp tidied them), parties
  as the list of names;
- CER and bag-of-words error of the page's text, for ocrmp and the CLI.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from realcorpus import bag_of_words_error, char_error_rate

from ocrmp.corpus import ledger_page, write_image, write_pdf
from ocrmp.corpus.page import GeneratedPage, LedgerPage
from ocrmp.ocr.pipeline import Pipeline
from ocrmp.ocr.records import NUMBER_FIELDS, as_printed

FORMATS = ("simple", "formulaire", "english", "inscription", "radiation")
# Rules from hairline grey to bold and broken, unruled, typefaces, resolution, skew and
# landscape come from each format's defaults and these conditions.
CONDITIONS: dict[str, dict[str, Any]] = {
    "clean": {},
    "degraded": {"degrade": True},
    "hairline, rows only": {"rules": "horizontal", "rule_weight": "hairline"},
    "broken rules, degraded": {"broken_rules": True, "degrade": True},
    "unruled": {"rules": "none"},
    "bold rules, 200 dpi": {"rule_weight": "bold", "dpi": 200},
    "colour, yellowed": {"colour": True, "paper": "yellowed", "degrade": True},
}
SKIP = ("date_iso", "nature_canonical", "handwritten")


@dataclass
class FormatScore:
    pages: int = 0
    rows_complete: int = 0
    cells_right: int = 0
    cells: int = 0
    cer: dict[str, list[float]] = field(default_factory=lambda: {"ocrmp": [], "cli": []})
    bow: dict[str, list[float]] = field(default_factory=lambda: {"ocrmp": [], "cli": []})
    seconds: list[float] = field(default_factory=list)
    worst: list[tuple[float, str]] = field(default_factory=list)


def _collapse(value: Any) -> str:
    if isinstance(value, list):
        return " ".join(_collapse(p.get("name", "")) for p in value)
    return " ".join(str(value or "").split())


def _as_read(record: dict[str, Any], key: str) -> str:
    text = _collapse(as_printed(record).get(key, "")) if record else ""
    return text.replace(" ", "") if key in NUMBER_FIELDS else text


def cell_score(truth: list[dict[str, Any]], got: list[dict[str, Any]]) -> tuple[int, int]:
    """(right, total) over the printed (row, field) values, rows matched in order."""
    right = total = 0
    for i, row in enumerate(truth):
        ours = got[i] if i < len(got) else {}
        for key, value in row.items():
            if key in SKIP:
                continue
            expected = _collapse(value)
            if key in NUMBER_FIELDS:
                expected = expected.replace(" ", "")
            total += 1
            right += _as_read(ours, key) == expected
    return right, total


def pages(count: int, seed: int) -> Iterator[tuple[str, str, LedgerPage]]:
    for fmt in FORMATS:
        for n, (condition, options) in enumerate(CONDITIONS.items()):
            for i in range(count):
                page_seed = seed + 1000 * n + i
                yield fmt, condition, ledger_page(page_seed, format=fmt, **options)


def cli_text(page: GeneratedPage, folder: Path) -> str:
    image = folder / "page.png"
    write_image(page, image, dpi=page.dpi)
    done = subprocess.run(["tesseract", str(image), "stdout", "-l", "fra"],
                          capture_output=True, text=True, check=False,
                          env={**os.environ, "OMP_THREAD_LIMIT": "1"})
    return done.stdout


def measure_ledgers(pipeline: Pipeline, count: int, seed: int) -> dict[str, FormatScore]:
    scores: dict[str, FormatScore] = {}
    with tempfile.TemporaryDirectory(prefix="ocrmp-ledgers-") as tmp:
        folder = Path(tmp)
        for fmt, condition, page in pages(count, seed):
            score = scores.setdefault(fmt, FormatScore())
            pdf = folder / "page.pdf"
            write_pdf([page], pdf, dpi=page.dpi)
            started = time.perf_counter()
            result = pipeline.process(pdf, "index", source=f"{fmt}.pdf")
            score.seconds.append(time.perf_counter() - started)
            rows = result.page_results[0].rows or []
            score.pages += 1
            score.rows_complete += len(rows) == len(page.rows)
            right, total = cell_score(page.rows, rows)
            score.cells_right += right
            score.cells += total
            for system, text in (("ocrmp", result.text), ("cli", cli_text(page, folder))):
                score.cer[system].append(char_error_rate(page.text, text))
                score.bow[system].append(bag_of_words_error(page.text, text))
            score.worst.append((score.cer["ocrmp"][-1], f"{condition} (rows {len(rows)}/"
                                                         f"{len(page.rows)})"))
    return scores


def _pooled(values: list[float]) -> float:
    return sum(values) / max(1, len(values))


def report_ledgers(scores: dict[str, FormatScore], count: int) -> None:
    print(f"\n# generated ledgers: {count} page(s) per format and condition "
          f"({', '.join(CONDITIONS)})")
    print("| format | pages | every row found | cells exact | CER ocrmp | CER CLI | "
          "BoW ocrmp | BoW CLI | s/page |")
    print("|---|---|---|---|---|---|---|---|---|")
    total = FormatScore()
    for fmt, s in scores.items():
        _row(fmt, s)
        total.pages += s.pages
        total.rows_complete += s.rows_complete
        total.cells_right += s.cells_right
        total.cells += s.cells
        for system in ("ocrmp", "cli"):
            total.cer[system] += s.cer[system]
            total.bow[system] += s.bow[system]
        total.seconds += s.seconds
    _row("all", total)
    for fmt, s in scores.items():
        worst = sorted(s.worst, reverse=True)[:2]
        print(f"#   {fmt}: worst pages " + "; ".join(f"{c:.1%} {what}" for c, what in worst))


def _row(name: str, s: FormatScore) -> None:
    print(f"| {name} | {s.pages} | {s.rows_complete / max(1, s.pages):.0%} | "
          f"{s.cells_right / max(1, s.cells):.1%} | {_pooled(s.cer['ocrmp']):.2%} | "
          f"{_pooled(s.cer['cli']):.2%} | {_pooled(s.bow['ocrmp']):.2%} | "
          f"{_pooled(s.bow['cli']):.2%} | {_pooled(s.seconds):.2f} |")
