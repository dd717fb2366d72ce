"""End-to-end benchmark: ocrmp against the bare engine and OCRmyPDF, on the same pages.

    .venv/bin/python bench/e2e.py [--docs 8] [--pages 3] [--sizes 1,2] [--dsn postgresql://...]

A corpus of degraded registry PDFs (documents alternate acte / index, `--pages` pages each,
ground truth from `ocrmp.corpus`) goes through, in one run:

1. ocrmp, the whole path: `ocrmp enqueue` (status 3) into a fresh database, then
   `ocrmp run --size N --until-idle` as a subprocess (JSON log to bench/out/e2e-logs/).
   Throughput from the database (first `ocr_started_at` to last `ocr_completed_at`, the
   figure a long queue sees) and from the wall time of the run (startup and the idle
   check included). Memory: PSS, USS and RSS of the master and of each worker's process
   tree, polled every 100 ms with psutil. CPU: the run's rusage over wall x cores.
2. The bare engine: the same page images, before they became PDFs, through tesserocr
   alone (the psm ocrmp uses for the kind, whole page, no preprocessing), one process per
   core (fork pool, OMP_THREAD_LIMIT=1), timed from the first page's start to the last
   page's end. The ceiling. ocrmp reads index pages cell by cell (more, different work),
   so the acte ceiling is the one to compare against.
3. OCRmyPDF: `ocrmypdf -j 2 --force-ocr --output-type pdf --sidecar ... -l fra`, one
   document after another, each with -j 2, as a user would run it; wall time of them all.

CER is scored as in bench/quality.py (whitespace collapsed; on index pages the " | "
cell separators removed from every text), summed over pages. Results go to
bench/out/e2e.json and the chart to bench/e2e.png.
"""

from __future__ import annotations

import argparse
import math
import multiprocessing
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# Before anything loads tesseract: one thread per process (bare engine).
os.environ["OMP_THREAD_LIMIT"] = "1"

import psutil  # noqa: E402
import psycopg  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import OUT_DIR, Server, command_line, postgres, print_table, write_json  # noqa: E402,E501
from bench.quality import Score, ocrmypdf_binary  # noqa: E402
from ocrmp.config import ocr_from_env  # noqa: E402
from ocrmp.corpus import GeneratedPage, make_document, write_pdf  # noqa: E402
from ocrmp.ocr.deed import PAGE_PSM as ACTE_PSM  # noqa: E402
from ocrmp.ocr.ledger import PAGE_PSM  # noqa: E402
from ocrmp.ocr.pipeline import PAGE_SEPARATOR  # noqa: E402
from ocrmp.vocabulary import Kind  # noqa: E402

KINDS = (Kind.ACTE, Kind.INDEX)
PSM = {Kind.ACTE: ACTE_PSM, Kind.INDEX: PAGE_PSM}  # a ledger read whole, as a page
LOG_DIR = OUT_DIR / "e2e-logs"
CHART = Path(__file__).resolve().parent / "e2e.png"
MB = 2**20
TARGET_BARE_SHARE = 0.90
TARGET_OCRMYPDF_FACTOR = 2.0
TARGET_SCALING = 1.8
TARGET_WORKER_MB = 250.0
TARGET_MASTER_MB = 100.0
FORK = multiprocessing.get_context("fork")


# -- corpus ---------------------------------------------------------------------------


@dataclass
class Document:
    name: str  # also the document_number `ocrmp enqueue` gives it (the file's stem)
    kind: str
    pages: list[GeneratedPage]
    pdf: Path


def make_corpus(folder: Path, docs: int, pages: int, seed: int,
                jpeg_quality: int | None) -> list[Document]:
    """`docs` degraded documents, kinds alternating, as PDFs under folder/<kind>/."""
    corpus = []
    for i in range(docs):
        kind = KINDS[i % 2]
        made, _ = make_document(kind, seed + i, pages, degrade=True)
        pdf = folder / kind / f"{kind}_{seed + i:04d}.pdf"
        pdf.parent.mkdir(parents=True, exist_ok=True)
        write_pdf([page.image for page in made], pdf, jpeg_quality=jpeg_quality)
        corpus.append(Document(pdf.stem, kind, made, pdf))
    return corpus


def score(corpus: Sequence[Document], texts: dict[str, list[str]]) -> dict[str, Any]:
    """CER and WER per kind: page by page when the page count matches, else whole text."""
    scores = {kind: Score() for kind in KINDS}
    missing = []
    for doc in corpus:
        got = texts.get(doc.name)
        if got is None:
            missing.append(doc.name)
            got = []
        pairs = (zip([p.text for p in doc.pages], got, strict=True) if len(got) == len(doc.pages)
                 else [("\n".join(p.text for p in doc.pages), "\n".join(got))])
        for reference, hypothesis in pairs:
            scores[doc.kind].add(reference, hypothesis, doc.kind)
    result: dict[str, Any] = {f"cer_{kind}": s.cer for kind, s in scores.items()}
    result.update({f"wer_{kind}": s.wer for kind, s in scores.items()})
    result["unscored"] = missing
    return result


# -- measurement helpers ----------------------------------------------------------------


def children_cpu_s() -> float:
    """CPU seconds of every reaped descendant of this process so far."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def user_env() -> dict[str, str]:
    """This environment without ocrmp's settings or our thread limit: what a shell has."""
    return {key: value for key, value in os.environ.items()
            if not key.startswith(("OCR_", "OCRMP_")) and not key.endswith("DATABASE_URL")
            and key != "OMP_THREAD_LIMIT"}


def per_minute(count: float, seconds: float) -> float:
    return 60.0 * count / seconds if seconds and seconds > 0 else math.nan


def load1() -> float:
    return os.getloadavg()[0]


class TreeSampler(threading.Thread):
    """Peak memory of this process's descendants, polled every `interval` seconds.

    Normally a child of ours is a master and its children are workers, each measured with
    its own descendants (tesseract CLI children). With `flat`, our children are the workers.
    """

    def __init__(self, flat: bool = False, interval: float = 0.1) -> None:
        super().__init__(daemon=True)
        self.flat = flat
        self.interval = interval
        self.peaks: dict[str, dict[int, dict[str, float]]] = {"master": {}, "worker": {}}
        self.samples = 0
        self._stop_event = threading.Event()
        self._trackers: dict[int, bool] = {}

    def run(self) -> None:
        while not self._stop_event.wait(self.interval):
            self.sample()

    def stop(self) -> TreeSampler:
        self._stop_event.set()
        self.join()
        return self

    def sample(self) -> None:
        self.samples += 1
        for top in self._children(psutil.Process()):
            if self.flat:
                self._record("worker", top)
                continue
            self._record("master", top, tree=False)
            for worker in self._children(top):
                self._record("worker", worker)

    def _children(self, proc: psutil.Process) -> list[psutil.Process]:
        try:
            return [child for child in proc.children() if not self._is_tracker(child)]
        except psutil.Error:
            return []

    def _is_tracker(self, proc: psutil.Process) -> bool:
        """multiprocessing's resource tracker: neither master nor worker."""
        if proc.pid not in self._trackers:
            try:
                self._trackers[proc.pid] = "resource_tracker" in " ".join(proc.cmdline())
            except psutil.Error:
                return False
        return self._trackers[proc.pid]

    def _record(self, role: str, proc: psutil.Process, tree: bool = True) -> None:
        total = {"rss": 0.0, "pss": 0.0, "uss": 0.0}
        try:
            members = [proc, *proc.children(recursive=True)] if tree else [proc]
            for member in members:
                info = member.memory_full_info()
                for key in total:
                    total[key] += getattr(info, key) / MB
        except psutil.Error:
            return  # gone between two calls: its last sample stands
        peak = self.peaks[role].setdefault(proc.pid, dict.fromkeys(total, 0.0))
        for key, value in total.items():
            peak[key] = max(peak[key], value)

    def summary(self) -> dict[str, Any]:
        out: dict[str, Any] = {"samples": self.samples}
        for role, by_pid in self.peaks.items():
            out[f"{role}_count"] = len(by_pid)
            for key in ("rss", "pss", "uss"):
                out[f"{role}_peak_{key}_mb"] = max((p[key] for p in by_pid.values()),
                                                   default=math.nan)
            out[f"{role}_peaks_mb"] = {str(pid): {k: round(v, 1) for k, v in p.items()}
                                       for pid, p in by_pid.items()}
        return out


# -- 1. ocrmp -----------------------------------------------------------------------------


def ocrmp_env(dsn: str, storage: Path, run_dir: Path) -> dict[str, str]:
    return {**user_env(), "OCR_DEV": "true", "DEV_DATABASE_URL": dsn,
            "OCRMP_STORAGE_ROOT": str(storage), "OCRMP_RUN_DIR": str(run_dir),
            "OCRMP_LOG_FORMAT": "json"}


def enqueue(env: dict[str, str], corpus_dir: Path, storage: Path) -> float:
    """`ocrmp enqueue <dir> --kind K` for each kind; seconds taken."""
    started = time.monotonic()
    for kind in KINDS:
        done = subprocess.run([sys.executable, "-m", "ocrmp", "enqueue", str(corpus_dir / kind),
                               "--kind", kind, "--storage-root", str(storage)],
                              env=env, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"ocrmp enqueue --kind {kind} failed ({done.returncode}): "
                               f"{done.stderr.strip()[-800:]}")
    return time.monotonic() - started


def queue_rows(dsn: str) -> list[dict[str, Any]]:
    with psycopg.connect(dsn) as conn:
        cur = conn.execute(
            "SELECT document_number, document_source, status_id, file_content, ocr_page_count,"
            " ocr_attempts, ocr_error, extract(epoch FROM ocr_started_at),"
            " extract(epoch FROM ocr_completed_at), ocr_worker_id FROM extraction_queue"
            " ORDER BY ocr_started_at")
        names = ("name", "kind", "status", "text", "pages", "attempts", "error", "started",
                 "completed", "worker")
        return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


def run_pool(env: dict[str, str], size: int, timeout: float) -> dict[str, Any]:
    """`ocrmp run --size N --until-idle` under the sampler; exit code, wall, CPU, memory."""
    LOG_DIR.mkdir(parents=True, exist_ok=True)
    name = f"e2e{size}-{uuid.uuid4().hex[:6]}"
    log = LOG_DIR / f"{name}.log"
    command = [sys.executable, "-m", "ocrmp", "run", "--size", str(size), "--until-idle",
               "--pool-name", name, "--log-file", str(log)]
    sampler = TreeSampler()
    cpu0, load = children_cpu_s(), load1()
    with open(LOG_DIR / f"{name}.stderr", "wb") as stderr:
        started = time.monotonic()
        proc = subprocess.Popen(command, env=env, stdin=subprocess.DEVNULL,
                                stdout=subprocess.DEVNULL, stderr=stderr)
        sampler.start()
        try:
            code: int | None = proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            code = None
        wall = time.monotonic() - started
    sampler.stop()
    return {"exit_code": code, "wall_s": wall, "cpu_s": children_cpu_s() - cpu0,
            "load1_before": load, "log": str(log), **sampler.summary()}


def measure_ocrmp(server: Server, corpus: Sequence[Document], corpus_dir: Path,
                  workdir: Path, size: int, timeout: float) -> dict[str, Any]:
    dsn = server.queue_database(f"size{size}")
    storage = workdir / "storage"
    storage.mkdir(exist_ok=True)
    env = ocrmp_env(dsn, storage, workdir / f"run{size}")
    enqueue_s = enqueue(env, corpus_dir, storage)
    result = {"config": f"ocrmp --size {size}", "size": size, "enqueue_s": enqueue_s,
              **run_pool(env, size, timeout)}
    rows = queue_rows(dsn)
    done = [row for row in rows if row["status"] == 5]
    result.update(ocrmp_rates(done, size, result["wall_s"]))
    result["jobs"] = len(rows)
    result["not_done"] = [{k: row[k] for k in ("name", "status", "attempts", "error")}
                          for row in rows if row["status"] != 5]
    result["retried"] = sum(row["attempts"] > 1 for row in rows)
    result["cpu_pct"] = 100 * result["cpu_s"] / (result["wall_s"] * os.cpu_count())
    result["pages_cpu_min"] = per_minute(result["pages"], result["cpu_s"])
    result["timeline"] = [{"name": row["name"], "worker": row["worker"], "pages": row["pages"],
                           "seconds": float(row["completed"]) - float(row["started"])}
                          for row in done]
    texts = {row["name"]: (row["text"] or "").split(PAGE_SEPARATOR) for row in done}
    result.update(score(corpus, texts))
    return result


def ocrmp_rates(done: Sequence[dict[str, Any]], size: int, wall: float) -> dict[str, Any]:
    """Throughput over the database span and the wall time; per kind, per worker-time."""
    pages = sum(row["pages"] or 0 for row in done)
    span = (max(float(r["completed"]) for r in done) - min(float(r["started"]) for r in done)
            if done else math.nan)
    out: dict[str, Any] = {"pages": pages, "done": len(done), "span_s": span,
                           "pages_min": per_minute(pages, span),
                           "pages_min_wall": per_minute(pages, wall),
                           "jobs_min": per_minute(len(done), span),
                           "jobs_min_wall": per_minute(len(done), wall)}
    for kind in KINDS:
        mine = [row for row in done if row["kind"] == kind]
        busy = sum(float(r["completed"]) - float(r["started"]) for r in mine)
        # What N workers would do on this kind alone: pages per busy second, times N.
        out[f"pages_min_{kind}"] = size * per_minute(sum(r["pages"] or 0 for r in mine), busy)
    return out


# -- 2. the bare engine -------------------------------------------------------------------

_PAGES: list[GeneratedPage] = []  # inherited by the forked engine processes
_API: Any = None


def _bare_init(tessdata: str, lang: str) -> None:
    global _API
    import tesserocr

    _API = tesserocr.PyTessBaseAPI(path=tessdata.rstrip("/") + "/", lang=lang)


def _bare_page(i: int, dpi: int = 300) -> tuple[int, str, float, float, float]:
    """Page i's text, its start and end (epoch s) and the CPU seconds it took."""
    page = _PAGES[i]
    started, cpu0 = time.time(), time.process_time()
    buffer = page.image.tobytes()
    height, width = page.image.shape
    _API.SetPageSegMode(PSM[page.kind])
    _API.SetImageBytes(buffer, width, height, 1, width)
    _API.SetSourceResolution(dpi)
    text = _API.GetUTF8Text()
    return i, text, started, time.time(), time.process_time() - cpu0


def measure_bare(corpus: Sequence[Document], processes: int) -> dict[str, Any]:
    settings = ocr_from_env(os.environ)
    tessdata = settings.tessdata_dir()
    if not tessdata:
        raise RuntimeError(f"no tessdata directory with {settings.lang}.traineddata")
    owners = [(doc, n) for doc in corpus for n in range(len(doc.pages))]
    _PAGES[:] = [doc.pages[n] for doc, n in owners]
    sampler = TreeSampler(flat=True)
    load = load1()
    with FORK.Pool(processes, initializer=_bare_init, initargs=(tessdata, settings.lang)) as pool:
        sampler.start()
        results = list(pool.imap_unordered(_bare_page, range(len(_PAGES)), chunksize=1))
    sampler.stop()
    _PAGES.clear()
    return bare_summary(corpus, owners, results, processes, load, sampler)


def bare_summary(corpus: Sequence[Document], owners: Sequence[tuple[Document, int]],
                 results: Sequence[tuple[int, str, float, float, float]], processes: int,
                 load: float, sampler: TreeSampler) -> dict[str, Any]:
    span = max(r[3] for r in results) - min(r[2] for r in results)
    texts: dict[str, list[str]] = {doc.name: [""] * len(doc.pages) for doc in corpus}
    for i, text, *_ in results:
        doc, n = owners[i]
        texts[doc.name][n] = text
    out: dict[str, Any] = {
        "config": f"bare tesserocr x{processes}", "processes": processes,
        "pages": len(results), "span_s": span, "pages_min": per_minute(len(results), span),
        "jobs_min": per_minute(len(corpus), span), "load1_before": load,
        "cpu_pct": 100 * sum(r[4] for r in results) / (span * os.cpu_count()),
        "pages_cpu_min": per_minute(len(results), sum(r[4] for r in results)),
        **sampler.summary(), **score(corpus, texts)}
    for kind in KINDS:
        mine = [r for r in results if owners[r[0]][0].kind == kind]
        busy = sum(r[3] - r[2] for r in mine)
        out[f"pages_min_{kind}"] = processes * per_minute(len(mine), busy)
    return out


# -- 3. OCRmyPDF --------------------------------------------------------------------------


def ocrmypdf_command(binary: str, jobs: int, pdf: Path, out: Path) -> list[str]:
    return [binary, "-j", str(jobs), "--force-ocr", "--output-type", "pdf", "--sidecar",
            str(out.with_suffix(".txt")), "-l", "fra", str(pdf), str(out)]


def sidecar_pages(path: Path, pages: int) -> list[str]:
    """The sidecar's pages: tesseract ends each with a form feed."""
    texts = path.read_text(errors="replace").split("\f")
    if len(texts) == pages + 1 and not texts[-1].strip():
        texts.pop()
    return texts


def measure_ocrmypdf(corpus: Sequence[Document], workdir: Path, jobs: int) -> dict[str, Any]:
    binary = ocrmypdf_binary()
    if binary is None:
        return {"config": f"ocrmypdf -j {jobs}", "skipped": "ocrmypdf not installed"}
    outdir = workdir / "ocrmypdf"
    outdir.mkdir(exist_ok=True)
    sampler = TreeSampler()
    texts: dict[str, list[str]] = {}
    walls: dict[str, float] = {}
    failures = []
    cpu0, load = children_cpu_s(), load1()
    sampler.start()
    for doc in corpus:
        out = outdir / doc.pdf.name
        started = time.monotonic()
        done = subprocess.run(ocrmypdf_command(binary, jobs, doc.pdf, out), env=user_env(),
                              capture_output=True, text=True, check=False)
        walls[doc.name] = time.monotonic() - started
        if done.returncode != 0:
            failures.append(f"{doc.name}: exit {done.returncode}: {done.stderr[-300:]}")
            continue
        texts[doc.name] = sidecar_pages(out.with_suffix(".txt"), len(doc.pages))
    sampler.stop()
    return ocrmypdf_summary(corpus, jobs, walls, texts, failures, children_cpu_s() - cpu0,
                            load, sampler, binary)


def ocrmypdf_summary(corpus: Sequence[Document], jobs: int, walls: dict[str, float],
                     texts: dict[str, list[str]], failures: list[str], cpu_s: float,
                     load: float, sampler: TreeSampler, binary: str) -> dict[str, Any]:
    wall = sum(walls.values())
    pages = sum(len(doc.pages) for doc in corpus if doc.name in texts)
    out: dict[str, Any] = {
        "config": f"ocrmypdf -j {jobs}", "jobs": jobs, "pages": pages, "span_s": wall,
        "pages_min": per_minute(pages, wall), "jobs_min": per_minute(len(texts), wall),
        "cpu_pct": 100 * cpu_s / (wall * os.cpu_count()), "load1_before": load,
        "pages_cpu_min": per_minute(pages, cpu_s),
        "failures": failures, "version": _version(binary),
        "example_command": " ".join(ocrmypdf_command(binary, jobs, Path("in.pdf"),
                                                     Path("out.pdf"))),
        **sampler.summary(), **score(corpus, texts)}
    for kind in KINDS:
        mine = [doc for doc in corpus if doc.kind == kind and doc.name in texts]
        out[f"pages_min_{kind}"] = per_minute(sum(len(d.pages) for d in mine),
                                              sum(walls[d.name] for d in mine))
    return out


def _version(binary: str) -> str:
    done = subprocess.run([binary, "--version"], capture_output=True, text=True, check=False)
    return done.stdout.strip()


# -- report -------------------------------------------------------------------------------


def fmt(value: float | None, digits: int = 0, suffix: str = "") -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    return f"{value:,.{digits}f}{suffix}"


def ratio(a: float | None, b: float | None) -> float:
    return a / b if a and b and not math.isnan(a) and not math.isnan(b) else math.nan


def mem_cell(result: dict[str, Any], role: str) -> str:
    pss = result.get(f"{role}_peak_pss_mb", math.nan)
    rss = result.get(f"{role}_peak_rss_mb", math.nan)
    return "-" if math.isnan(pss) else f"{pss:.0f} ({rss:.0f})"


def main_table(results: Sequence[dict[str, Any]], bare: dict[str, Any] | None,
               peer: dict[str, Any] | None) -> None:
    header = ("configuration", "pages/min", "(wall)", "jobs/min", "x bare", "x bare acte",
              "x OCRmyPDF", "CER acte", "CER index", "master MB PSS (RSS)",
              "worker MB PSS (RSS)", "CPU %", "pages/CPU-min", "load1")
    rows = []
    for r in results:
        if r.get("skipped"):
            continue
        rows.append([
            r["config"], fmt(r["pages_min"], 1), fmt(r.get("pages_min_wall"), 1),
            fmt(r["jobs_min"], 2),
            fmt(ratio(r["pages_min"], bare and bare["pages_min"]), 2),
            fmt(ratio(r["pages_min_acte"], bare and bare["pages_min_acte"]), 2),
            fmt(ratio(r["pages_min"], peer and peer.get("pages_min")), 2),
            fmt(100 * r["cer_acte"], 2, "%"), fmt(100 * r["cer_index"], 2, "%"),
            mem_cell(r, "master"), mem_cell(r, "worker"), fmt(r["cpu_pct"], 0),
            fmt(r["pages_cpu_min"], 1),
            fmt(r["load1_before"], 1)])
    print_table(rows, header)


def kind_table(results: Sequence[dict[str, Any]]) -> None:
    header = ("configuration", "acte pages/min", "index pages/min", "pages", "seconds")
    rows = [[r["config"], fmt(r["pages_min_acte"], 1), fmt(r["pages_min_index"], 1),
             str(r["pages"]), fmt(r["span_s"], 1)] for r in results if not r.get("skipped")]
    print_table(rows, header)


def targets(ocrmp: dict[int, dict[str, Any]], bare: dict[str, Any] | None,
            peer: dict[str, Any] | None) -> list[dict[str, Any]]:
    """Each target: what, the measured figure, the bound, met or not."""
    checks: list[dict[str, Any]] = []

    def check(what: str, value: float, bound: float, at_least: bool) -> None:
        met = (value >= bound if at_least else value <= bound) if not math.isnan(value) else None
        checks.append({"target": what, "value": value, "bound": bound,
                       "met": met, "at_least": at_least})

    two, one = ocrmp.get(2), ocrmp.get(1)
    if two and bare:
        check("size 2 acte pages/min / bare engine acte", ratio(two["pages_min_acte"],
              bare["pages_min_acte"]), TARGET_BARE_SHARE, True)
        check("size 2 pages/min / bare engine (all pages)", ratio(two["pages_min"],
              bare["pages_min"]), TARGET_BARE_SHARE, True)
    if two and peer and not peer.get("skipped"):
        check("size 2 pages/min / OCRmyPDF -j 2", ratio(two["pages_min"], peer["pages_min"]),
              TARGET_OCRMYPDF_FACTOR, True)
        for kind in KINDS:
            check(f"size 2 CER {kind} - OCRmyPDF CER {kind} (pp)",
                  100 * (two[f"cer_{kind}"] - peer[f"cer_{kind}"]), 0.0, False)
    if one and two:
        check("scaling size 1 -> 2 (pages/min, DB span)",
              ratio(two["pages_min"], one["pages_min"]), TARGET_SCALING, True)
        check("scaling size 1 -> 2 (pages/min, wall)",
              ratio(two["pages_min_wall"], one["pages_min_wall"]), TARGET_SCALING, True)
    for r in ocrmp.values():
        check(f"{r['config']} worker peak PSS MB", r["worker_peak_pss_mb"], TARGET_WORKER_MB,
              False)
        check(f"{r['config']} worker peak RSS MB", r["worker_peak_rss_mb"], TARGET_WORKER_MB,
              False)
        check(f"{r['config']} master peak PSS MB", r["master_peak_pss_mb"], TARGET_MASTER_MB,
              False)
        check(f"{r['config']} master peak RSS MB", r["master_peak_rss_mb"], TARGET_MASTER_MB,
              False)
    return checks


def print_targets(checks: Iterable[dict[str, Any]]) -> None:
    rows = [[c["target"], fmt(c["value"], 2), ("≥ " if c["at_least"] else "≤ ") +
             fmt(c["bound"], 2), {True: "pass", False: "MISS", None: "-"}[c["met"]]]
            for c in checks]
    print_table(rows, ("target", "measured", "bound", "verdict"))


def chart(results: Sequence[dict[str, Any]], path: Path, subtitle: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    shown = [r for r in results if not r.get("skipped")]
    labels = [r["config"] for r in shown]
    series = (("all pages", "pages_min"), ("acte", "pages_min_acte"),
              ("index", "pages_min_index"))
    fig, ax = plt.subplots(figsize=(7, 3.2), dpi=80)
    width = 0.26
    for n, (name, key) in enumerate(series):
        values = [r.get(key) or 0.0 for r in shown]
        xs = [i + (n - 1) * width for i in range(len(shown))]
        bars = ax.bar(xs, values, width, label=name)
        ax.bar_label(bars, fmt="%.0f", fontsize=7)
    ax.set_xticks(range(len(shown)), labels, fontsize=8)
    ax.set_ylabel("pages / min")
    ax.set_title(f"OCR throughput, degraded 300-dpi registry pages\n{subtitle}", fontsize=8)
    ax.legend(fontsize=7, frameon=False)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


# -- main -----------------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=8, help="documents, acte/index alternating")
    parser.add_argument("--pages", type=int, default=3, help="pages per document")
    parser.add_argument("--seed", type=int, default=700)
    parser.add_argument("--sizes", default="1,2", help="ocrmp pool sizes to run")
    parser.add_argument("--processes", type=int, default=2, help="bare engine processes")
    parser.add_argument("--ocrmypdf-jobs", type=int, default=2)
    parser.add_argument("--no-ocrmypdf", action="store_true")
    parser.add_argument("--jpeg-quality", type=int, default=None,
                        help="store pages as JPEG in the PDFs (default: lossless Flate, so "
                             "every system reads exactly the bare engine's pixels)")
    parser.add_argument("--timeout", type=float, default=1800, help="per ocrmp run, seconds")
    parser.add_argument("--dsn", help="PostgreSQL server to use (default: a private one)")
    parser.add_argument("--no-chart", action="store_true")
    return parser.parse_args(argv)


def measure(args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    started = time.monotonic()
    corpus = make_corpus(workdir / "corpus", args.docs, args.pages, args.seed,
                         args.jpeg_quality)
    print(f"# corpus: {args.docs} documents x {args.pages} pages, degraded, seeds "
          f"{args.seed}.. ({time.monotonic() - started:.0f} s to draw)", file=sys.stderr)
    ocrmp: dict[int, dict[str, Any]] = {}
    with postgres(args.dsn, prefix="e2e") as server:
        for size in (int(s) for s in args.sizes.split(",")):
            ocrmp[size] = measure_ocrmp(server, corpus, workdir / "corpus", workdir, size,
                                        args.timeout)
            print(f"# done {ocrmp[size]['config']}", file=sys.stderr)
    bare = measure_bare(corpus, args.processes)
    print("# done bare engine", file=sys.stderr)
    peer = None if args.no_ocrmypdf else measure_ocrmypdf(corpus, workdir, args.ocrmypdf_jobs)
    return {"ocrmp": ocrmp, "bare": bare, "ocrmypdf": peer, "server": server.description}


def report(record: dict[str, Any]) -> None:
    ocrmp, bare, peer = record["ocrmp"], record["bare"], record["ocrmypdf"]
    results = [*ocrmp.values(), bare, *([peer] if peer else [])]
    print("## throughput, quality, memory (ocrmp pages/min over the DB span, first claim to "
          "last completion; (wall) includes startup and the idle check)")
    main_table(results, bare, peer)
    print("\n## per kind (pages/min if every worker did this kind: pages per busy second x "
          "workers; OCRmyPDF: per document wall)")
    kind_table(results)
    print("\n## targets")
    print_targets(record["targets"])
    for r in ocrmp.values():
        if r["not_done"] or r["exit_code"] != 0:
            print(f"# {r['config']}: exit {r['exit_code']}, not done: {r['not_done']}; "
                  f"see {r['log']}")
    if peer and peer.get("failures"):
        print(f"# ocrmypdf failures: {peer['failures']}")


def notes(record: dict[str, Any]) -> None:
    bare, peer = record["bare"], record["ocrmypdf"]
    print("\n# notes:")
    print("#  bare engine: tesserocr (bundled tesseract "
          f"{record['tesserocr_version']}) on the generated arrays, psm {PSM['acte']} for "
          f"acte and {PSM['index']} for index pages, whole page, no preprocessing. ocrmp "
          "reads index pages cell by cell after removing the ruling: different work, so "
          "compare the acte ceiling first. The raw page (dark borders, stains, grey "
          "background) can cost tesseract more than ocrmp's cleaned, binarised one, so "
          "ocrmp may pass this 'ceiling'.")
    print(f"#  bare engine memory is of {bare['processes']} processes forked from this one "
          "(which holds the corpus): PSS is the meaningful figure there.")
    if peer and not peer.get("skipped"):
        print(f"#  OCRmyPDF {peer['version']}: documents one after another, each with "
              f"-j {peer['jobs']}: {peer['example_command']}")
    print(f"#  memory: peak of psutil memory_full_info every 100 ms; a worker's figure "
          "includes its descendants. CPU % = process-tree CPU time / (wall x "
          f"{os.cpu_count()} cores); pages/CPU-min = pages per minute of that CPU time, "
          "the efficiency figure a loaded machine distorts least.")
    print(f"#  load average at start {record['load_start']}, at end {record['load_end']} "
          "(other jobs on this machine inflate every time; rerun on a quiet one)")


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    import tesserocr

    load_start = [round(x, 2) for x in os.getloadavg()]
    with tempfile.TemporaryDirectory(prefix="ocrmp-e2e-") as tmp:
        record = measure(args, Path(tmp))
    record.update({
        "command": command_line(), "args": vars(args), "cores": os.cpu_count(),
        "load_start": load_start, "load_end": [round(x, 2) for x in os.getloadavg()],
        "tesserocr_version": tesserocr.tesseract_version().split()[1],
        "targets": targets(record["ocrmp"], record["bare"], record["ocrmypdf"])})
    print(f"# {record['command']}")
    print(f"# {args.docs} documents x {args.pages} pages ({args.docs * args.pages} pages), "
          f"{os.cpu_count()} cores, {record['server']}\n")
    report(record)
    notes(record)
    record["ocrmp"] = {str(k): v for k, v in record["ocrmp"].items()}
    print(f"# JSON: {write_json('e2e.json', record)}")
    if not args.no_chart:
        chart([*record["ocrmp"].values(), record["bare"],
               *([record["ocrmypdf"]] if record["ocrmypdf"] else [])], CHART,
              f"{args.docs} documents x {args.pages} pages, {os.cpu_count()} cores, "
              f"load average {load_start[0]:.1f} at start")
        print(f"# chart: {CHART} ({CHART.stat().st_size // 1024} KB)")


if __name__ == "__main__":
    main()
