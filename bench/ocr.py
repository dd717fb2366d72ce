"""OCR benchmark: milliseconds per 300-dpi letter page, on one core.

    OMP_THREAD_LIMIT=1 .venv/bin/python bench/ocr.py [--pages 10] [--seed 0]

Degraded corpus pages (half deeds, half ledgers) go through the whole pipeline; each
reader step's own time comes from the page's timings (flatten, analysis, orientation,
resolution, deskew, specks or ruling, the engine with its second readings, layout or
table, verdict), and the engine benchmark adds the page's wall time and the overhead
outside preprocessing and the engine.
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field

# One core, as a worker runs: set before numpy/OpenCV/tesseract start their threads.
os.environ.setdefault("OMP_THREAD_LIMIT", "1")

import cv2  # noqa: E402
import numpy as np  # noqa: E402

from ocrmp.corpus import GeneratedPage, acte_page, index_page  # noqa: E402
from ocrmp.ocr.readahead import READ_AHEAD_BYTES  # noqa: E402

READ_AHEAD_MB = READ_AHEAD_BYTES // 2**20

# The steps before recognition, as the readers time them (ocrmp/ocr/prepare.py, ledger.py).
PREPARE_STEPS = ("flatten", "analysis", "orientation", "resolution", "deskew", "specks",
                 "ruling", "plan")
STEPS = (*PREPARE_STEPS, "preprocess", "engine", "layout", "table", "verdict")


@dataclass
class PageTimings:
    """Milliseconds spent on one page, by step; engines add their own keys."""

    kind: str
    ms: dict[str, float] = field(default_factory=dict)


def degraded_pages(count: int, seed: int = 0) -> list[GeneratedPage]:
    """`count` degraded pages, deeds and ledgers alternating."""
    makers = (acte_page, index_page)
    return [makers[i % 2](seed + i, degrade=True) for i in range(count)]


def summarize(rows: Sequence[PageTimings], keys: Sequence[str] = STEPS) -> list[str]:
    """A table of median and p90 ms per key, over all pages and per page kind."""
    kinds = sorted({row.kind for row in rows})
    header = f"{'step':<12}" + "".join(f"{k + ' med':>12}{k + ' p90':>12}" for k in kinds)
    header += f"{'all med':>12}{'all p90':>12}"
    lines = [header, "-" * len(header)]
    for key in keys:
        cells = []
        for group in [[r for r in rows if r.kind == k] for k in kinds] + [list(rows)]:
            values = [r.ms[key] for r in group if key in r.ms]
            if values:
                cells.append(f"{np.median(values):12.1f}{np.percentile(values, 90):12.1f}")
            else:
                cells.append(f"{'-':>12}{'-':>12}")
        lines.append(f"{key:<12}" + "".join(cells))
    return lines


# --- engine (the pipeline's own timings, per page) ---------------------------------------

ENGINE_KEYS = ("preprocess", "engine", "page", "overhead", "overhead_pct", "orientation",
               "orientation_pct", "resolution")


def measure_engine(pages: Sequence[GeneratedPage], engine: str = "auto") -> list[PageTimings]:
    """Each page through the whole pipeline; engine time and what is spent outside it.

    `page` is the wall time of the page inside `Pipeline.process` (extraction from the PDF,
    preprocessing, recognition, layout); `overhead` is what is neither preprocessing nor
    the engine, over the document and shared evenly by its pages, and `overhead_pct` that
    overhead over the page's engine time.
    """
    import tempfile
    import time
    from pathlib import Path

    from ocrmp.config import ocr_from_env
    from ocrmp.corpus import write_pdf
    from ocrmp.ocr.pipeline import Pipeline

    pipeline = Pipeline(ocr_from_env(os.environ, engine=engine))
    rows: list[PageTimings] = []
    marks: list[float] = []  # page completion times, filled by on_page
    for kind in sorted({p.kind for p in pages}):
        group = [p for p in pages if p.kind == kind]
        with tempfile.TemporaryDirectory() as folder:
            pdf = Path(folder) / "doc.pdf"
            write_pdf([p.image for p in group], pdf)
            data = pdf.read_bytes()
        pipeline.process(data, kind, source="warm-up")  # first call loads the model
        marks[:] = [time.perf_counter()]
        result = pipeline.process(data, kind, source=kind,
                                  on_page=lambda _: marks.append(time.perf_counter()))
        walls = [(end - start) * 1000 for start, end in zip(marks, marks[1:], strict=False)]
        # A child reads several pages ahead at once, so the first page of a run carries
        # the others' reading: the overhead is spread evenly over the document's pages.
        spread = (sum(walls) - sum(_preprocess(p.timings_ms) + p.timings_ms["engine"]
                                   for p in result.page_results)) / len(walls)
        for page, wall in zip(result.page_results, walls, strict=False):
            ms = dict(page.timings_ms)
            ms["preprocess"] = _preprocess(page.timings_ms)
            ms["page"] = wall
            ms["overhead"] = spread
            ms["overhead_pct"] = 100 * spread / ms["engine"]
            # Finding the page's orientation and resolution, part of `preprocess`.
            ms["orientation"] = page.timings_ms.get("orientation", 0.0)
            ms["orientation_pct"] = 100 * ms["orientation"] / ms["engine"]
            ms["resolution"] = page.timings_ms.get("resolution", 0.0)
            rows.append(PageTimings(kind, ms))
    return rows


def _preprocess(timings: dict[str, float]) -> float:
    return sum(timings.get(step, 0.0) for step in PREPARE_STEPS)


def _cpu_s() -> float:
    """CPU seconds of this process and its reaped children: on a busy host, wall time
    measures the neighbours too."""
    import resource

    own, children = (resource.getrusage(who) for who in (resource.RUSAGE_SELF,
                                                         resource.RUSAGE_CHILDREN))
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def measure_page_read(pages: Sequence[GeneratedPage], engine: str = "auto",
                      repeat: int = 3) -> dict[str, list[float]]:
    """ms (wall and CPU) per page to read a scan PDF's pages into pixels: as the pipeline
    does (`iter_pages`: children killed at each page's deadline and memory-capped, each
    reading pages up to READ_AHEAD_BYTES), with a child forked for every page, and as the
    bare peer (the same pdfium calls in this process). The engine is loaded first, so
    this process is as large as a worker and each fork copies as much."""
    import tempfile
    import time
    from pathlib import Path
    from unittest import mock

    from ocrmp.config import ocr_from_env
    from ocrmp.corpus import write_pdf
    from ocrmp.ocr import pages as reader
    from ocrmp.ocr import readahead
    from ocrmp.ocr.pipeline import Pipeline

    settings = ocr_from_env(os.environ, engine=engine)
    pipeline = Pipeline(settings)  # noqa: F841 - kept alive: the worker's size
    with tempfile.TemporaryDirectory() as folder:
        pdf = Path(folder) / "doc.pdf"
        write_pdf([p.image for p in pages], pdf)
        data = pdf.read_bytes()

    def runs() -> None:
        list(reader.iter_pages(data, settings=settings, source="bench"))

    def page_each() -> None:
        with mock.patch.object(readahead, "READ_AHEAD_BYTES", 0):
            runs()

    def bare() -> None:
        for index in range(len(pages)):
            reader._read_pdf_page_alone(data, settings, "bench", index)

    ways = {"runs": runs, "page_each": page_each, "bare": bare}
    times: dict[str, list[float]] = {f"{k}{c}": [] for k in ways for c in ("", "_cpu")}
    for _ in range(repeat):
        for name, read in ways.items():
            started, cpu = time.perf_counter(), _cpu_s()
            read()
            times[name].append((time.perf_counter() - started) * 1000 / len(pages))
            times[f"{name}_cpu"].append((_cpu_s() - cpu) * 1000 / len(pages))
    return times


def peak_rss_mb(pdf: str, kind: str = "acte") -> float:
    """Peak resident memory of one `ocrmp ocr` run, from the kernel's rusage of the child."""
    import subprocess

    # Measured through a small launcher: a child forked from this (large) process would
    # count the parent's pages in its own peak until it execs.
    launcher = ("import resource, subprocess, sys; subprocess.run(sys.argv[1:], check=True, "
                "stdout=subprocess.DEVNULL); "
                "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")
    done = subprocess.run(["/usr/bin/env", "python3", "-c", launcher, sys.executable, "-m",
                           "ocrmp", "ocr", pdf, "--kind", kind], capture_output=True,
                          text=True, check=True)
    return int(done.stdout.split()[-1]) / 1024


def measure_memory(pages: int) -> tuple[float, float, float, float]:
    """Peak RSS of `ocrmp ocr` on a 1-page, a 2-page and a `pages`-page PDF of the same JPEG
    scan, and the larger PDF's size in MB (read page by page from the file, not held)."""
    import tempfile
    from pathlib import Path

    from ocrmp.corpus import write_pdf

    image = acte_page(7, degrade=True).image
    with tempfile.TemporaryDirectory() as folder:
        peaks = []
        for count in (1, 2, pages):
            pdf = Path(folder) / f"{count}.pdf"
            write_pdf([image] * count, pdf, jpeg_quality=80)
            peaks.append(peak_rss_mb(str(pdf)))
        size = pdf.stat().st_size / 2**20
        return peaks[0], peaks[1], peaks[2], size


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=10, help="degraded pages to time")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--engine", default="auto", help="auto, tesserocr or cli")
    parser.add_argument("--memory-pages", type=int, default=0,
                        help="also compare peak RSS of `ocrmp ocr` on 1 and N pages")
    args = parser.parse_args(argv)
    cv2.setNumThreads(1)
    pages = degraded_pages(args.pages, args.seed)
    command = " ".join(["OMP_THREAD_LIMIT=1", shlex.quote(sys.executable), *map(shlex.quote,
                                                                                 sys.argv)])
    print(f"# {command}")
    if args.engine != "none":
        engine_rows = measure_engine(pages, args.engine)
        print(f"# the readers' steps, ms per 300-dpi letter page, {len(engine_rows)} degraded "
              f"pages, 1 core, engine {args.engine}")
        print("\n".join(summarize(engine_rows, STEPS)))
        print(f"# whole pipeline with engine {args.engine}, same pages, ms per page")
        print("\n".join(summarize(engine_rows, ENGINE_KEYS)))
        page_ms = float(np.median([row.ms["page"] for row in engine_rows]))
        read = measure_page_read(pages, args.engine)
        for clock, suffix in (("wall", ""), ("CPU", "_cpu")):
            runs, each, bare = (float(np.median(read[k + suffix]))
                                for k in ("runs", "page_each", "bare"))
            print(f"# reading a page into pixels, {clock} ms per page, median of "
                  f"{len(read['runs'])} reads of the {len(pages)}-page PDF: in children "
                  f"reading up to {READ_AHEAD_MB} MB each {runs:.1f}, a child per page "
                  f"{each:.1f}, in this process {bare:.1f}; the children cost "
                  f"{runs - bare:.1f} ms, {100 * (runs - bare) / page_ms:.2f}% of a whole page "
                  f"({page_ms:.0f} ms wall), against {100 * (each - bare) / page_ms:.2f}% "
                  f"with a child per page")
    if args.memory_pages:
        one, two, many, size = measure_memory(args.memory_pages)
        print(f"# peak RSS of ocrmp ocr: 1 page {one:.0f} MB, 2 pages {two:.0f} MB, "
              f"{args.memory_pages} pages {many:.0f} MB ({100 * (many - one) / one:+.1f}% "
              f"vs 1 page, {100 * (many - two) / two:+.1f}% vs 2 pages; the PDF is "
              f"{size:.0f} MB, read page by page)")


if __name__ == "__main__":
    main()
