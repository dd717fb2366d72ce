"""Orientation: ocrmp's detector beside tesseract's own (OSD), on pages turned four ways.

    OMP_THREAD_LIMIT=1 .venv/bin/python bench/orientation.py [--real ../shared/corpus]
        [--generated 8] [--no-osd]

Every page is turned by 0, 90, 180 and 270° and given to both detectors: ocrmp's
(`orientation.upright` on the flattened page's analysis, the engine asked on a few lines
only when the lines leave a doubt; right means the page was turned upright, and an unsure
decision leaves a page as it is) and tesseract's OSD (`--psm 0`, what OCRmyPDF's --rotate-pages
uses) on the whole page. A detector is right when it names the angle the page was turned
by; "unsure" counts answers below its confidence threshold (ocrmp reads those pages as
they are and flags them; OSD's are those under OCRmyPDF's default threshold of 14). Time
is per page, against the page's recognition time by the in-process engine (psm 3), the
figure the issue's 5 % budget is measured against.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

os.environ.setdefault("OMP_THREAD_LIMIT", "1")

import cv2  # noqa: E402
import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import command_line  # noqa: E402
from realcorpus import discover  # noqa: E402

from ocrmp.corpus import acte_page, ledger_page  # noqa: E402
from ocrmp.ocr import clean, ink, orientation  # noqa: E402
from ocrmp.ocr.engines import TesserocrEngine  # noqa: E402
from ocrmp.ocr.settings import OcrSettings  # noqa: E402

OSD_THRESHOLD = 14.0  # OCRmyPDF's --rotate-pages-threshold default
TURN = {0: None, 90: cv2.ROTATE_90_COUNTERCLOCKWISE, 180: cv2.ROTATE_180,
        270: cv2.ROTATE_90_CLOCKWISE}


@dataclass
class Tally:
    right: int = 0
    wrong_sure: int = 0  # wrong and not flagged: the costly mistake
    unsure: int = 0
    ms: list[float] = field(default_factory=list)

    def add(self, right: bool, sure: bool, ms: float) -> None:
        self.ms.append(ms)
        if not sure:
            self.unsure += 1
        if right:
            self.right += 1
        elif sure:
            self.wrong_sure += 1


def pages(args: argparse.Namespace) -> Iterator[tuple[str, np.ndarray]]:
    if args.real:
        for page in discover(args.real):
            # rotated/ holds copies of one page already turned: its upright twin is enough.
            if "-rotated" not in page.name:
                yield page.collection, np.asarray(Image.open(page.image).convert("L")).copy()
    for seed in range(args.generated):
        yield "generated acte", _gray(acte_page(seed, degrade=True).image)
        formats = ("simple", "formulaire", "inscription", "radiation", "english")
        yield "generated index", _gray(ledger_page(seed, format=formats[seed % len(formats)],
                                                   degrade=True).image)


def _gray(image: np.ndarray) -> np.ndarray:
    return image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)


def measure(args: argparse.Namespace) -> dict[str, dict[str, Tally]]:
    engine = TesserocrEngine(OcrSettings())
    results: dict[str, dict[str, Tally]] = {}
    recognition: dict[str, list[float]] = {}
    for group, upright in pages(args):
        tallies = results.setdefault(group, {"ocrmp": Tally(), "osd": Tally()})
        started = time.perf_counter()
        engine.recognize(upright, psm=3)
        recognition.setdefault(group, []).append((time.perf_counter() - started) * 1000)
        for angle, code in TURN.items():
            image = upright if code is None else np.ascontiguousarray(cv2.rotate(upright, code))
            started = time.perf_counter()
            flat = clean.flatten(image)
            found, _ = orientation.upright(ink.analyse(flat), flat, engine)
            ms = (time.perf_counter() - started) * 1000
            tallies["ocrmp"].add(found.angle == angle, not orientation.uncertain(found), ms)
            if not args.no_osd:
                started = time.perf_counter()
                osd = engine.detect_orientation(image)
                ms = (time.perf_counter() - started) * 1000
                tallies["osd"].add(osd is not None and osd[0] == angle,
                                   osd is not None and osd[1] >= OSD_THRESHOLD, ms)
        print(f"# {group}: done a page", file=sys.stderr)
    for group, values in recognition.items():
        results[group]["recognition"] = Tally(ms=values)
    return results


def report(results: dict[str, dict[str, Tally]]) -> None:
    print("| pages | detector | tries | right | wrong, not flagged | unsure | ms median | "
          "ms mean | ms p90 | mean / recognition |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for group, tallies in results.items():
        recognition = statistics.mean(tallies["recognition"].ms)
        for name in ("ocrmp", "osd"):
            t = tallies[name]
            if not t.ms:
                continue
            p90 = sorted(t.ms)[int(0.9 * (len(t.ms) - 1))]
            print(f"| {group} | {name} | {len(t.ms)} | {t.right} | {t.wrong_sure} | "
                  f"{t.unsure} | {statistics.median(t.ms):.0f} | {statistics.mean(t.ms):.0f} | "
                  f"{p90:.0f} | {statistics.mean(t.ms) / recognition:.1%} |")
        print(f"| {group} | (recognition, psm 3) | {len(tallies['recognition'].ms)} | | | | "
              f"{statistics.median(tallies['recognition'].ms):.0f} | {recognition:.0f} | | |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--real", type=Path, metavar="ROOT", help="real scans (../shared/corpus)")
    parser.add_argument("--generated", type=int, default=8, help="generated pages per kind")
    parser.add_argument("--no-osd", action="store_true", help="skip tesseract's OSD")
    args = parser.parse_args()
    cv2.setNumThreads(1)
    print(f"# OMP_THREAD_LIMIT=1 {command_line()}")
    report(measure(args))


if __name__ == "__main__":
    main()
