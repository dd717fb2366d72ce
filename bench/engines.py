"""The tesseract CLI engine beside pytesseract, on the same pages, one core.

    OMP_THREAD_LIMIT=1 .venv/bin/python bench/engines.py [--pages 6] [--seed 0] [--repeat 3]

ocrmp's `CliEngine` writes the page as PGM to a RAM file and reads tesseract's TSV from its
standard output; pytesseract (its peer, `image_to_data`) encodes the page as PNG in a
temporary file and reads the TSV back from another file. Both run the same binary with the
same language, page segmentation and resolution; the report gives the median seconds per
page of each, their ratio, and whether both read the same words. pytesseract comes with the
benchmarks' extra (`pip install -e '.[bench]'`): ocrmp itself does not depend on it.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("OMP_THREAD_LIMIT", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np  # noqa: E402
from common import command_line, print_table, write_json  # noqa: E402

from ocrmp.config import ocr_from_env  # noqa: E402
from ocrmp.corpus import acte_page, index_page  # noqa: E402
from ocrmp.ocr.engines import CliEngine, Word, recognition_from_words  # noqa: E402
from ocrmp.ocr.settings import OcrSettings  # noqa: E402

PSM = 6
DPI = 300


def gray_pages(count: int, seed: int) -> list[np.ndarray]:
    """`count` degraded 300-dpi pages, deeds and ledgers alternating, as gray images."""
    makers = (acte_page, index_page)
    pages = [makers[i % 2](seed + i, degrade=True).image for i in range(count)]
    return [page if page.ndim == 2 else page.mean(axis=2).astype(np.uint8) for page in pages]


def pytesseract_reader(settings: OcrSettings) -> Callable[[np.ndarray], str]:
    import pytesseract

    config = f"--tessdata-dir {settings.tessdata_dir()} --psm {PSM} --dpi {DPI}"

    def read(image: np.ndarray) -> str:
        data = pytesseract.image_to_data(image, lang=settings.lang, config=config,
                                         output_type=pytesseract.Output.DICT)
        words = [Word(text.strip(), float(conf), left, top, width, height, (b, p, line))
                 for text, conf, left, top, width, height, b, p, line, level in zip(
                     data["text"], data["conf"], data["left"], data["top"], data["width"],
                     data["height"], data["block_num"], data["par_num"], data["line_num"],
                     data["level"], strict=True)
                 if level == 5 and text.strip()]
        return recognition_from_words(words).text

    return read


def timed(read: Callable[[np.ndarray], str], pages: list[np.ndarray],
          repeat: int) -> tuple[list[float], list[str]]:
    """Seconds per page (the best of `repeat` runs of each page) and the texts read."""
    seconds, texts = [], []
    for page in pages:
        runs = []
        for _ in range(repeat):
            start = time.perf_counter()
            text = read(page)
            runs.append(time.perf_counter() - start)
        seconds.append(min(runs))
        texts.append(text)
    return seconds, texts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=6)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    settings = ocr_from_env(os.environ, engine="cli")
    load_at_start = os.getloadavg()[0]
    pages = gray_pages(args.pages, args.seed)
    engine = CliEngine(settings)
    ours, our_texts = timed(lambda page: engine.recognize(page, psm=PSM, dpi=DPI).text,
                            pages, args.repeat)
    peer, peer_texts = timed(pytesseract_reader(settings), pages, args.repeat)
    same = sum(a == b for a, b in zip(our_texts, peer_texts, strict=True))
    ours_s, peer_s = statistics.median(ours), statistics.median(peer)
    print(command_line())
    print_table([["ocrmp CliEngine", f"{ours_s:.3f}", "1.00"],
                 ["pytesseract image_to_data", f"{peer_s:.3f}", f"{peer_s / ours_s:.2f}"]],
                ["reader", "median s/page", "× ocrmp"])
    print(f"same text on {same} of {len(pages)} pages; load average {load_at_start:.2f} at "
          f"the start, {os.getloadavg()[0]:.2f} at the end")
    write_json("engines", {"pages": len(pages), "ocrmp_s": ours, "pytesseract_s": peer,
                           "same_text": same, "load": [load_at_start, os.getloadavg()[0]]})


if __name__ == "__main__":
    main()
