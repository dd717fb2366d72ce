"""Generated pages of every layout, on seeds of one half: ocrmp beside the engine alone.

    .venv/bin/python bench/generated.py --random 3 --half checking
    .venv/bin/python bench/generated.py --random 3 --half fresh [--draw K] [--only RE] [--each]

For each layout (the deed-kind layouts of `ocrmp.corpus.LAYOUTS`: deed, letter, verse, two
and three columns, report; the typed ledger formats and "tilted", a ledger skewed 1-3
degrees), `--random N` seeds are drawn from the half's seed range (bench/halves.py:
tuning 0-49,999, checking 50,000-99,999, fresh from 100,000). Each page has every other
option drawn from its seed (`ocrmp.corpus.layout_page`): typeface, 100-400 dpi, tilt up
to 3 degrees, a quarter turn now and then, fax, colour, ink, stamps, handwriting, damage.

The same pages are read, in the same run, by
- ocrmp: the page as a one-page PDF through `Pipeline.process`, as the pool reads it;
- the tesseract CLI with its defaults (`tesseract page.png stdout -l fra`, the PNG
  carrying the page's true resolution);
- the bare engine: ocrmp's engine wrapper on the page image as it is, page segmentation 3
  (tesseract's own layout analysis), the true resolution, nothing before or after.

Per layout and system: median CER, pooled CER (edits over characters, all pages), the
ratios of ocrmp to the CLI, and for ledgers the share of (row, printed field) values
exactly right (bench/ledgers.py's `cell_score`; only ocrmp gives rows). CER is Levenshtein
distance over the truth's length, whitespace runs collapsed; on ledgers the " | " cell
separators are removed from every text first. Pages where ocrmp loses to the CLI by more
than 5 points are listed with their seed and flags, worst first.

Seeds: `--draw K` picks them (the same K, the same seeds); without it a tuning or
checking run draws with K = 0 and a fresh run with a new K, printed with the command.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import shlex
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

os.environ.setdefault("OMP_THREAD_LIMIT", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np  # noqa: E402
from halves import CHECKING_SEEDS, FRESH_SEEDS, TUNING_SEEDS  # noqa: E402
from ledgers import cell_score, cli_text  # noqa: E402

from ocrmp.config import ocr_from_env  # noqa: E402
from ocrmp.corpus import (  # noqa: E402
    LAYOUTS,
    LEDGER_LAYOUTS,
    GeneratedPage,
    layout_page,
    levenshtein,
    write_pdf,
)
from ocrmp.ocr.engines import Engine, load_engine  # noqa: E402
from ocrmp.ocr.pipeline import Pipeline  # noqa: E402

SEED_RANGES = {"tuning": TUNING_SEEDS, "checking": CHECKING_SEEDS, "fresh": FRESH_SEEDS}
SYSTEMS = ("ocrmp", "cli", "engine")
LOSS_SHOWN = 0.05  # pages where ocrmp's CER exceeds the CLI's by more than this are listed


@dataclass
class Reading:
    """One page read by every system: CER and the characters it was measured over."""

    seed: int
    chars: int
    edits: dict[str, int] = field(default_factory=dict)
    fields: tuple[int, int] = (0, 0)  # (right, total) of ocrmp's row fields
    flags: list[str] = field(default_factory=list)
    options: str = ""

    def cer(self, system: str) -> float:
        return self.edits[system] / max(1, self.chars)


def normal(text: str, ledger: bool) -> str:
    if ledger:
        text = text.replace("|", " ")
    return " ".join(text.split())


def seeds_for(half: str, layout: str, count: int, draw: int) -> list[int]:
    """`count` seeds of the half's range for one layout: a pure function of `draw`."""
    picker = random.Random(f"{half}/{layout}/{draw}")
    return sorted(picker.sample(SEED_RANGES[half], count))


def grey(image: np.ndarray) -> np.ndarray:
    return image if image.ndim == 2 else np.asarray(
        np.round(image.mean(axis=2)), dtype=np.uint8)


def _brief(page: GeneratedPage) -> str:
    o = page.options
    parts = [f"{o.get('face')}", f"{page.dpi} dpi"]
    if page.orientation_deg:
        parts.append(f"turned {page.orientation_deg}")
    if page.skew_deg:
        parts.append(f"skew {page.skew_deg:+.1f}")
    parts += [name for name in ("fax", "colour", "degrade") if o.get(name)]
    if o.get("ink", "black") != "black":
        parts.append(f"{o['ink']} ink")
    if o.get("stamps") or o.get("handwriting"):
        parts.append("marks")
    if o.get("format"):
        parts.insert(0, str(o["format"]))
    return ", ".join(parts)


def read_page(page: GeneratedPage, seed: int, pipeline: Pipeline, engine: Engine,
              folder: Path) -> Reading:
    ledger = page.kind == "index"
    truth = normal(page.text, ledger)
    pdf = folder / "page.pdf"
    write_pdf([page], pdf, dpi=page.dpi)
    result = pipeline.process(pdf.read_bytes(), page.kind, source=f"seed-{seed}.pdf")
    got = result.page_results[0]
    texts = {"ocrmp": got.text, "cli": cli_text(page, folder),
             "engine": engine.recognize(grey(page.image), psm=3, dpi=page.dpi).text}
    reading = Reading(seed, len(truth), flags=[str(flag) for flag in got.flags],
                      options=_brief(page))
    for system, text in texts.items():
        reading.edits[system] = levenshtein(truth, normal(text, ledger))
    if ledger:
        reading.fields = cell_score(page.rows, got.rows or [])
    return reading


def measure(layouts: Sequence[str], half: str, count: int, draw: int) -> dict[str, list[Reading]]:
    settings = ocr_from_env(os.environ)
    pipeline, engine = Pipeline(settings), load_engine(settings)
    found: dict[str, list[Reading]] = {}
    with tempfile.TemporaryDirectory(prefix="ocrmp-generated-") as tmp:
        for layout in layouts:
            started = time.perf_counter()
            for seed in seeds_for(half, layout, count, draw):
                page = layout_page(seed, layout)
                found.setdefault(layout, []).append(
                    read_page(page, seed, pipeline, engine, Path(tmp)))
            print(f"# done {layout} in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    return found


def pooled(readings: list[Reading], system: str) -> float:
    return sum(r.edits[system] for r in readings) / max(1, sum(r.chars for r in readings))


def median(readings: list[Reading], system: str) -> float:
    return statistics.median(r.cer(system) for r in readings)


def _ratio(ours: float, theirs: float) -> str:
    return f"{ours / theirs:.2f}" if theirs > 0 else ("1.00" if ours == 0 else "∞")


def report(found: dict[str, list[Reading]], each: bool) -> None:
    print("| layout | pages | median CER ocrmp | CLI | engine | × CLI | pooled CER ocrmp | "
          "CLI | engine | × CLI | row fields exact (ocrmp) | worse than CLI |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    everything: list[Reading] = []
    for layout, readings in found.items():
        _row(layout, readings, layout in LEDGER_LAYOUTS)
        everything += readings
    if len(found) > 1:
        _row("all", everything, any(r.fields[1] for r in everything))
    losses = sorted(((r.cer("ocrmp") - r.cer("cli"), layout, r) for layout, readings in
                     found.items() for r in readings), key=lambda item: -item[0])
    shown = [item for item in losses if item[0] > LOSS_SHOWN]
    if shown:
        print("\nPages where ocrmp reads worse than the CLI by more than "
              f"{LOSS_SHOWN:.0%} (CER ocrmp / CLI / engine):")
    for _, layout, r in shown:
        _page(layout, r)
    if each:
        print("\nEvery page (CER ocrmp / CLI / engine):")
        for layout, readings in found.items():
            for r in readings:
                _page(layout, r)


def _page(layout: str, r: Reading) -> None:
    flags = ", ".join(r.flags) or "no flag"
    fields = f"; fields {r.fields[0]}/{r.fields[1]}" if r.fields[1] else ""
    print(f"- {layout} seed {r.seed} ({r.options}): {r.cer('ocrmp'):.1%} / "
          f"{r.cer('cli'):.1%} / {r.cer('engine'):.1%}{fields}; {flags}")


def _row(name: str, readings: list[Reading], ledger: bool) -> None:
    med = {s: median(readings, s) for s in SYSTEMS}
    pool = {s: pooled(readings, s) for s in SYSTEMS}
    right = sum(r.fields[0] for r in readings)
    total = sum(r.fields[1] for r in readings)
    fields = f"{right / total:.1%}" if ledger and total else "-"
    worse = sum(r.cer("ocrmp") > r.cer("cli") for r in readings)
    print(f"| {name} | {len(readings)} | {med['ocrmp']:.2%} | {med['cli']:.2%} | "
          f"{med['engine']:.2%} | {_ratio(med['ocrmp'], med['cli'])} | {pool['ocrmp']:.2%} | "
          f"{pool['cli']:.2%} | {pool['engine']:.2%} | {_ratio(pool['ocrmp'], pool['cli'])} | "
          f"{fields} | {worse} |")


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--random", type=int, default=3, metavar="N",
                        help="pages per layout (default 3)")
    parser.add_argument("--half", choices=list(SEED_RANGES), default="checking")
    parser.add_argument("--draw", type=int, metavar="K",
                        help="which seeds (default: 0, or a new draw for fresh seeds)")
    parser.add_argument("--only", metavar="RE", help="layouts whose name matches RE")
    parser.add_argument("--each", action="store_true", help="also list every page")
    args = parser.parse_args(argv)
    if args.random < 1:
        parser.error("--random needs at least one page per layout")
    draw = args.draw if args.draw is not None else (
        random.SystemRandom().randrange(1, 1_000_000) if args.half == "fresh" else 0)
    layouts = [name for name in (*LAYOUTS, *LEDGER_LAYOUTS)
               if args.only is None or re.search(args.only, name)]
    argv_shown = [*(argv if argv is not None else sys.argv[1:])]
    if args.draw is None:
        argv_shown += ["--draw", str(draw)]
    print("# " + shlex.join([sys.executable, sys.argv[0], *argv_shown]))
    print(f"# {args.random} page(s) per layout, {args.half} seeds "
          f"({SEED_RANGES[args.half].start}-{SEED_RANGES[args.half].stop - 1}), draw {draw}")
    report(measure(layouts, args.half, args.random, draw), args.each)


if __name__ == "__main__":
    main()
