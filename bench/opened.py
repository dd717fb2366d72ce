"""What reading a document through its opened descriptor costs, beside reading it by name.

    .venv/bin/python bench/opened.py [--pages 4] [--runs 7]

Storage opens a document once and the page reader reads it through that descriptor
(/proc/self/fd/N, which pypdfium2 reads as a stream through Python callbacks); before, it
was opened by name, which pdfium reads itself. Both read the same generated PDF of
letter-sized JPEG scans (300 dpi grey noise, the size of real scans), every page rendered
at 300 dpi in grey, alternating runs; median and spread of each, and their ratio.
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pypdfium2 as pdfium
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import command_line  # noqa: E402


def scan_pdf(pages: int, path: Path) -> None:
    pdf = pdfium.PdfDocument.new()
    rng = np.random.default_rng(1)
    for _ in range(pages):
        buffer = io.BytesIO()
        Image.fromarray((rng.random((3300, 2550)) * 60 + 190).astype(np.uint8)).save(
            buffer, "JPEG", quality=85)
        buffer.seek(0)
        page = pdf.new_page(612, 792)
        image = pdfium.PdfImage.new(pdf)
        image.load_jpeg(buffer, inline=False)
        image.set_matrix(pdfium.PdfMatrix().scale(612, 792))
        page.insert_obj(image)
        page.gen_content()
    pdf.save(str(path))


def render_all(open_pdf: Callable[[], pdfium.PdfDocument]) -> float:
    started = time.perf_counter()
    pdf = open_pdf()
    for index in range(len(pdf)):
        pdf[index].render(scale=300 / 72, grayscale=True).to_numpy()
    pdf.close()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=4)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "scan.pdf"
        scan_pdf(args.pages, path)
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        by_name: list[float] = []
        by_descriptor: list[float] = []
        for _ in range(args.runs):
            by_name.append(render_all(lambda: pdfium.PdfDocument(path)))
            by_descriptor.append(render_all(lambda: pdfium.PdfDocument(
                open(f"/proc/self/fd/{fd}", "rb"), autoclose=True)))  # noqa: SIM115
        os.close(fd)
        size_kb = path.stat().st_size / 1024
    print(f"# {command_line()}")
    print(f"{args.pages} pages, {size_kb:.0f} KB, {args.runs} alternating runs each")
    for name, runs in (("by name", by_name), ("by descriptor", by_descriptor)):
        print(f"{name:14} median {statistics.median(runs):.3f} s "
              f"(min {min(runs):.3f}, max {max(runs):.3f})")
    ratio = statistics.median(by_descriptor) / statistics.median(by_name)
    print(f"ratio descriptor / name: {ratio:.3f}")


if __name__ == "__main__":
    main()
