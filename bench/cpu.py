"""CPU seconds per page of the whole pipeline: this tree beside another, alternating.

    .venv/bin/python bench/cpu.py --baseline DIR [--pages 4] [--rounds 2] [--seed 700]

DIR holds another checkout of ocrmp (e.g. `git worktree add --detach DIR COMMIT`, with the
built `ocrmp/_atomics*.so` copied in). Each round reads the same degraded generated pages,
deeds and ledgers alternating, once in a child running this tree and once in a child
running DIR, who goes first alternating too. A page's cost is the CPU time (user and
system, the process and its reading children) of `Pipeline.process` on its one-page PDF:
on a machine shared with other work this moves far less than wall time does.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

KINDS = ("acte", "index")
ROOT = Path(__file__).resolve().parent.parent


def _cpu_seconds() -> float:
    own, children = (resource.getrusage(who) for who in
                     (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def measure(pages: int, seed: int) -> dict[str, list[float]]:
    """In this process: CPU seconds of each page, by kind."""
    from ocrmp.config import ocr_from_env
    from ocrmp.corpus import acte_page, ledger_page, write_pdf
    from ocrmp.ocr.pipeline import Pipeline

    pipeline = Pipeline(ocr_from_env(os.environ))
    makers = {"acte": acte_page, "index": ledger_page}
    costs: dict[str, list[float]] = {kind: [] for kind in KINDS}
    with tempfile.TemporaryDirectory(prefix="ocrmp-cpu-") as folder:
        for i in range(pages):
            for kind in KINDS:
                page = makers[kind](seed + i, degrade=True)
                pdf = Path(folder) / "page.pdf"
                write_pdf([page], pdf, dpi=page.dpi)
                before = _cpu_seconds()
                pipeline.process(pdf, kind, source="page.pdf")
                costs[kind].append(_cpu_seconds() - before)
    return costs


def run_tree(tree: Path, pages: int, seed: int) -> dict[str, list[float]]:
    env = {**os.environ, "PYTHONPATH": str(tree), "OMP_THREAD_LIMIT": "1"}
    done = subprocess.run([sys.executable, "-P", str(Path(__file__).resolve()), "--measure",
                           "--pages", str(pages), "--seed", str(seed)],
                          cwd=tree, env=env, capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", type=Path, help="another checkout of ocrmp")
    parser.add_argument("--pages", type=int, default=4, help="pages of each kind per run")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--seed", type=int, default=700)
    parser.add_argument("--measure", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.pages, args.seed)))
        return
    trees = {"this tree": ROOT, **({"baseline": args.baseline} if args.baseline else {})}
    runs: dict[str, dict[str, list[float]]] = {name: {k: [] for k in KINDS} for name in trees}
    order = list(trees)
    for _ in range(args.rounds):
        for name in order:
            for kind, costs in run_tree(trees[name], args.pages, args.seed).items():
                runs[name][kind].append(statistics.median(costs))
        order.reverse()
    print(f"# CPU seconds per page, medians of {args.pages} degraded pages per kind and run, "
          f"{args.rounds} runs each, alternating")
    print("| tree | kind | median of runs | runs |")
    print("|---|---|---|---|")
    for name, kinds in runs.items():
        for kind, medians in kinds.items():
            spread = ", ".join(f"{m:.2f}" for m in medians)
            print(f"| {name} | {kind} | {statistics.median(medians):.2f} | {spread} |")
    if args.baseline:
        for kind in KINDS:
            ratio = (statistics.median(runs["this tree"][kind])
                     / statistics.median(runs["baseline"][kind]))
            print(f"# {kind}: this tree / baseline = {ratio:.2f}")


if __name__ == "__main__":
    main()
