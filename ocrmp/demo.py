"""`ocrmp demo`: sample registry documents through a real pool, watched live, then scored.

The samples come from the synthetic corpus, so every page has a ground truth and the results
table can put the character error rate beside the engine's own confidence. The pool runs as
a child process started exactly as a user would start it (`ocrmp run --until-idle`): the demo
shows the real command at work, not a shortcut around it.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

import numpy as np

from ocrmp.config import EMBEDDED, KINDS, Settings
from ocrmp.errors import ConfigError, SchemaError
from ocrmp.exitcodes import ExitCode
from ocrmp.store import STATUS_DONE, STATUS_ERROR, JobStore

DEFAULT_POOL_NAME = "demo"
FILE_PREFIX = "demo-"  # every sample's file name starts so; --fresh deletes only those rows
FIRST_SEED = 7001  # fixed seeds: every run draws the same pages, so results compare
TICK_S = 0.5
PLAIN_EVERY_S = 2.0
STATUS_NAMES = {3: "ready", 4: "error", 5: "done", 6: "running"}
# The child must serve only the demo's dev database and read only the demo's files: a
# config file would override the variables set for it, a URL would hide the storage root.
_NOT_INHERITED = ("OCRMP_CONFIG", "OCRMP_STORAGE_URL", "OCRMP_POOL_NAME")

Say = Callable[[str], None]


@dataclass(frozen=True)
class Options:
    documents: int = 6
    pages: int = 2
    size: int = 2
    fresh: bool = True
    engine: str | None = None  # hidden: `fake` exercises the pool without tesseract
    pool_name: str = DEFAULT_POOL_NAME  # hidden: lets tests run demos side by side


@dataclass(frozen=True)
class Sample:
    kind: str
    document_number: str
    supabase_path: str
    pages: int
    truth: str


@dataclass(frozen=True)
class Outcome:
    code: ExitCode
    problem: str | None = None  # the one line for stderr when code is not OK


# -- where things live ----------------------------------------------------------------


def dev_database(settings: Settings, say: Say) -> str:
    """The dev database's DSN: the configured one, or the embedded server, started."""
    from ocrmp.embedded import resolve_embedded
    from ocrmp.schema import pending

    dev = settings.environments.get("dev")
    if dev is None:
        raise ConfigError("ocrmp demo writes sample jobs to a dev database only, and no dev "
                          "database is configured: set DEV_DATABASE_URL, or unset the "
                          "*_DATABASE_URL variables to use the embedded server")
    if dev == EMBEDDED:
        say(f"database   embedded PostgreSQL under {settings.data_dir / 'postgres'} "
            "(started on demand, kept for next time)")
        with warnings.catch_warnings():
            # pgserver asks platformdirs for a runtime directory it does not use here; on a
            # machine without XDG_RUNTIME_DIR that warning would be the demo's only noise.
            warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")
            return resolve_embedded({"dev": dev}, settings.data_dir)["dev"]
    say("database   the configured dev database (DEV_DATABASE_URL): the pool will also "
        "serve any other ready job there")
    missing = pending(dev)
    if missing:
        raise SchemaError(f"the dev database lacks migrations {', '.join(missing)}: "
                          "run `ocrmp db migrate`")
    return dev


def storage_root(settings: Settings, environ: Mapping[str, str]) -> Path:
    configured = environ.get("OCRMP_STORAGE_ROOT")
    return Path(configured) if configured else settings.data_dir / "storage"


def demo_prefixes() -> list[str]:
    return [f"{kind}/{FILE_PREFIX}" for kind in KINDS]


# -- samples --------------------------------------------------------------------------


def registry_number(seed: int) -> str:
    """A 7-digit number grouped by thousands with spaces, as the registry prints them."""
    number = int(np.random.default_rng(seed).integers(1_000_000, 9_999_999))
    return f"{number:,}".replace(",", " ")


def sample_plan(documents: int) -> list[tuple[str, int]]:
    """(kind, seed) per document: kinds alternate, so both worker modes get work."""
    kinds = ("acte", "index")
    return [(kinds[i % 2], FIRST_SEED + i) for i in range(documents)]


def make_sample(kind: str, seed: int, pages: int, root: Path) -> Sample:
    """Draw one degraded document, write its PDF and truth under root, return what it is."""
    from ocrmp.corpus import make_document, write_pdf

    made, truth = make_document(kind, seed, pages, degrade=True)
    number = registry_number(seed)
    relative = f"{kind}/{FILE_PREFIX}{number.replace(' ', '')}.pdf"
    target = root / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    # JPEG inside the PDF, as scanners write them: ten times smaller than lossless.
    write_pdf([page.image for page in made], target, jpeg_quality=90)
    target.with_suffix(".truth.txt").write_text(truth + "\n", encoding="utf-8")
    return Sample(kind, number, relative, pages, truth)


class DemoStore(JobStore):
    """The queue, plus the two queries only the demo needs."""

    def forget(self, prefixes: Sequence[str]) -> int:
        """Delete the jobs whose documents live under these path prefixes."""
        return len(self._run("delete_under_prefixes", {"prefixes": list(prefixes)}))

    def statuses(self, ids: Iterable[str]) -> list[dict[str, Any]]:
        return self._run("job_statuses", {"ids": list(ids)})


def prepare_samples(store: DemoStore, options: Options, root: Path,
                    say: Say) -> dict[str, Sample]:
    """Generate and enqueue the samples; return them by job id."""
    samples: dict[str, Sample] = {}
    for kind, seed in sample_plan(options.documents):
        sample = make_sample(kind, seed, options.pages, root)
        job_id = store.enqueue(sample.kind, sample.supabase_path, sample.document_number)
        samples[job_id] = sample
        say(f"enqueued   {sample.kind:<6} {sample.document_number}  {sample.supabase_path} "
            f"({plural(sample.pages, 'page')})")
    return samples


# -- the pool -------------------------------------------------------------------------


def pool_command(options: Options, log_file: Path) -> list[str]:
    command = [sys.executable, "-m", "ocrmp", "run", "--size", str(options.size),
               "--until-idle", "--pool-name", options.pool_name, "--log-format", "json",
               "--log-file", str(log_file)]
    if options.engine:
        command += ["--engine", engine_spec(options.engine, options.pages)]
    return command


def engine_spec(engine: str, pages: int) -> str:
    """`fake` alone becomes a fake engine that takes a moment per page, so progress shows."""
    return f"fake:sleep=0.3,pages={pages}" if engine == "fake" else engine


def pool_environment(dsn: str, root: Path, environ: Mapping[str, str]) -> dict[str, str]:
    env = {key: value for key, value in environ.items() if key not in _NOT_INHERITED}
    # The DSN of the running server, so the child starts no embedded server of its own.
    env.update(DEV_DATABASE_URL=dsn, OCR_DEV="true", OCR_STAGING="false", OCR_PROD="false",
               OCRMP_STORAGE_ROOT=str(root))
    return env


def start_pool(command: list[str], env: dict[str, str], log_file: Path) -> subprocess.Popen[bytes]:
    # The child's own stdout/stderr (a start-up error) join its log, off the live display.
    with open(log_file, "ab") as log:
        return subprocess.Popen(command, env=env, stdin=subprocess.DEVNULL, stdout=log,
                                stderr=log)


def stop_pool(pool: subprocess.Popen[bytes]) -> None:
    """INT: the master releases its jobs at once and stops its workers."""
    if pool.poll() is not None:
        return
    pool.send_signal(signal.SIGINT)
    try:
        pool.wait(timeout=30)
    except subprocess.TimeoutExpired:
        pool.kill()
        pool.wait()


def last_log_line(log_file: Path) -> str:
    try:
        lines = [line for line in log_file.read_text(errors="replace").splitlines() if line]
    except OSError:
        return ""
    # The child's own error already says "ocrmp: error:"; ours will say it once.
    return lines[-1].removeprefix("ocrmp: error: ")[:300] if lines else ""


# -- live progress --------------------------------------------------------------------


@dataclass(frozen=True)
class Progress:
    total: int
    done: int
    errors: int
    pages: int
    elapsed_s: float
    workers: list[dict[str, Any]]

    @property
    def pages_per_minute(self) -> float:
        return self.pages * 60 / self.elapsed_s if self.elapsed_s > 0 else 0.0

    def headline(self) -> str:
        return (f"{self.done + self.errors}/{self.total} jobs finished ({self.done} done, "
                f"{self.errors} errors) · {self.pages} pages · "
                f"{self.pages_per_minute:.1f} pages/min · {self.elapsed_s:.0f}s")


def live_workers(pool_name: str) -> list[dict[str, Any]]:
    from ocrmp.pool.slots import SlotTableError
    from ocrmp.pool.view import read_slots

    try:
        return read_slots(pool_name)
    except SlotTableError:
        # Caught while the master creates or removes its table: the next tick will see it.
        return []


def measure(store: DemoStore, samples: Mapping[str, Sample], pool_name: str,
            started: float) -> Progress:
    rows = store.statuses(samples)
    workers = live_workers(pool_name)
    # Pages of finished jobs, plus the pages already read of the jobs in hand.
    pages = sum(row["pages"] for row in rows if row["status_id"] == STATUS_DONE)
    pages += sum(worker["page"] or 0 for worker in workers if worker["phase"] == "busy")
    return Progress(total=len(samples),
                    done=sum(row["status_id"] == STATUS_DONE for row in rows),
                    errors=sum(row["status_id"] == STATUS_ERROR for row in rows),
                    pages=pages, elapsed_s=time.monotonic() - started, workers=workers)


def worker_line(worker: dict[str, Any], pages_of: Mapping[str, int]) -> str:
    job = "-"
    if worker["phase"] == "busy" and worker["document_number"]:
        number = worker["document_number"]
        total = pages_of.get(number)
        # `page` counts pages finished: the one being read is the next.
        reading = worker["page"] + 1 if total is None else min(worker["page"] + 1, total)
        job = f"{number}  page {reading}" + (f"/{total}" if total else "")
    return f"  {worker['name']:<14} {worker['phase']:<9} {worker['mode']:<6} {job}"


def progress_lines(progress: Progress, pages_of: Mapping[str, int]) -> list[str]:
    return [progress.headline(), *(worker_line(w, pages_of) for w in progress.workers)]


def plain_line(progress: Progress, pages_of: Mapping[str, int]) -> str:
    workers = "; ".join(" ".join(worker_line(w, pages_of).split()) for w in progress.workers)
    return f"{progress.headline()}" + (f" | {workers}" if workers else "")


class LiveDisplay:
    """Redraws in place on a terminal; elsewhere (a pipe, CI) prints a line every 2 s."""

    def __init__(self, out: TextIO, pages_of: Mapping[str, int], tty: bool | None = None) -> None:
        self.out = out
        self.pages_of = pages_of
        self.tty = out.isatty() if tty is None else tty
        self.drawn = 0
        self.last_plain = float("-inf")

    def show(self, progress: Progress, *, final: bool = False) -> None:
        if self.tty:
            self._redraw(progress_lines(progress, self.pages_of))
        elif final or time.monotonic() - self.last_plain >= PLAIN_EVERY_S:
            self.out.write(plain_line(progress, self.pages_of) + "\n")
            self.out.flush()
            self.last_plain = time.monotonic()

    def _redraw(self, lines: list[str]) -> None:
        width = shutil.get_terminal_size().columns - 1
        # Back to the first line drawn last time (ESC[nF), rewrite each line (ESC[2K clears
        # it), then clear whatever a longer previous frame left below (ESC[J).
        up = f"\x1b[{self.drawn}F" if self.drawn else "\r"
        body = "".join(f"\x1b[2K{line[:width]}\n" for line in lines)
        self.out.write(f"{up}{body}\x1b[J")
        self.out.flush()
        self.drawn = len(lines)


def watch(pool: subprocess.Popen[bytes], store: DemoStore, samples: Mapping[str, Sample],
          pool_name: str, display: LiveDisplay) -> tuple[int, float]:
    """Show progress until the pool exits; return its exit code and how long it ran."""
    started = time.monotonic()
    while True:
        code = pool.poll()
        progress = measure(store, samples, pool_name, started)
        display.show(progress, final=code is not None)
        if code is not None:
            return code, progress.elapsed_s
        time.sleep(TICK_S)


# -- results --------------------------------------------------------------------------


@dataclass(frozen=True)
class Result:
    document_number: str
    kind: str
    status: str
    pages: int | None = None
    confidence: float | None = None
    seconds: float | None = None
    cer: float | None = None
    first_line: str = ""
    error: str | None = None

    @property
    def done(self) -> bool:
        return self.status == "done"


def result_of(row: dict[str, Any] | None, sample: Sample) -> Result:
    """One table row from the job's database row and the sample's ground truth."""
    from ocrmp.corpus import cer

    if row is None:
        return Result(sample.document_number, sample.kind, "missing",
                      error="the job disappeared from the queue")
    status = STATUS_NAMES.get(row["status_id"], str(row["status_id"]))
    if row["status_id"] != STATUS_DONE:
        return Result(sample.document_number, sample.kind, status,
                      error=row.get("ocr_error") or "not processed")
    text = row.get("file_content") or ""
    return Result(sample.document_number, sample.kind, status, pages=row.get("ocr_page_count"),
                  confidence=_confidence(row.get("ocr_result")),
                  seconds=_seconds(row.get("ocr_started_at"), row.get("ocr_completed_at")),
                  cer=cer(sample.truth, text), first_line=_first_line(text))


def _confidence(result: Any) -> float | None:
    # Written by the OCR pipeline; a fake engine or an older result may lack it.
    value = result.get("mean_confidence") if isinstance(result, dict) else None
    return float(value) if isinstance(value, int | float) else None


def _seconds(started: Any, completed: Any) -> float | None:
    if started is None or completed is None:
        return None
    return float((completed - started).total_seconds())


def _first_line(text: str) -> str:
    return next((line.strip() for line in text.splitlines() if line.strip()), "")


def _cell(value: float | int | None, spec: str) -> str:
    return "-" if value is None else format(value, spec)


def render_results(results: Sequence[Result]) -> str:
    lines = [f"{'document':<11}{'kind':<7}{'pages':>5}{'conf':>7}{'secs':>7}  "
             f"{'status':<8}{'CER':>7}  first line"]
    for r in results:
        cer = "-" if r.cer is None else f"{r.cer:.1%}"
        lines.append(f"{r.document_number:<11}{r.kind:<7}{_cell(r.pages, 'd'):>5}"
                     f"{_cell(r.confidence, '.1f'):>7}{_cell(r.seconds, '.1f'):>7}  "
                     f"{r.status:<8}{cer:>7}  {r.first_line[:48]}")
    return "\n".join(lines)


def summary(results: Sequence[Result], elapsed_s: float) -> str:
    done = [r for r in results if r.done]
    pages = sum(r.pages or 0 for r in done)
    line = f"{len(done)} of {len(results)} documents done in {elapsed_s:.0f}s"
    if done:
        mean_cer = sum(r.cer or 0.0 for r in done) / len(done)
        rate = pages * 60 / elapsed_s if elapsed_s > 0 else 0.0
        line += f" · {pages} pages ({rate:.1f} pages/min) · mean CER {mean_cer:.1%}"
    return line


def verdict(results: Sequence[Result], pool_code: int, log_file: Path, say: Say) -> Outcome:
    failed = [r for r in results if not r.done]
    for r in failed:
        say(f"  {r.document_number} ({r.kind}): {r.status}: {r.error}")
    if pool_code != ExitCode.OK:
        # The pool's named codes pass through; a signal's death (negative) is a failure.
        code = ExitCode(pool_code) if pool_code in set(ExitCode) else ExitCode.FAILURE
        return Outcome(code, f"the pool exited with code {pool_code}: "
                                  f"{last_log_line(log_file)} (log: {log_file})")
    if failed:
        return Outcome(ExitCode.FAILURE, f"{len(failed)} of {len(results)} demo documents "
                                         f"did not finish; see {log_file}")
    return Outcome(ExitCode.OK)


# -- the whole demo -------------------------------------------------------------------


def plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def refuse_if_running(settings: Settings, pool_name: str) -> None:
    from ocrmp.pool.pidfile import AlreadyRunning, pidfile_path, running_master

    pid = running_master(pidfile_path(settings.run_dir, pool_name))
    if pid is not None:
        raise AlreadyRunning(f"a demo pool is already running (master pid {pid}): wait for "
                             f"it, or stop it with `ocrmp stop --pool-name {pool_name}`")


def run_demo(settings: Settings, options: Options, out: TextIO) -> Outcome:
    def say(line: str) -> None:
        out.write(line + "\n")
        out.flush()

    refuse_if_running(settings, options.pool_name)
    say(f"ocrmp demo: {plural(options.documents, 'sample document')} of "
        f"{plural(options.pages, 'page')}, through a pool of {plural(options.size, 'worker')}")
    dsn = dev_database(settings, say)
    root = storage_root(settings, os.environ)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    log_file = settings.data_dir / "demo.log"
    log_file.write_bytes(b"")  # each run's log on its own
    say(f"documents  {root}/{{acte,index}}/{FILE_PREFIX}*.pdf (with their .truth.txt)")
    say(f"pool log   {log_file}")
    store = DemoStore(dsn, application_name="ocrmp-demo")
    try:
        return _run(store, options, root, dsn, log_file, out, say)
    finally:
        store.close()


def _run(store: DemoStore, options: Options, root: Path, dsn: str, log_file: Path,
         out: TextIO, say: Say) -> Outcome:
    if options.fresh:
        say(f"removed    {store.forget(demo_prefixes())} jobs of earlier demos")
    samples = prepare_samples(store, options, root, say)
    command = pool_command(options, log_file)
    say(f"running    ocrmp {' '.join(command[3:])}\n")
    pool = start_pool(command, pool_environment(dsn, root, os.environ), log_file)
    display = LiveDisplay(out, {s.document_number: s.pages for s in samples.values()})
    try:
        code, elapsed_s = watch(pool, store, samples, options.pool_name, display)
    except KeyboardInterrupt:
        return Outcome(ExitCode.FAILURE, "interrupted: the pool released its jobs")
    finally:
        stop_pool(pool)
    results = [result_of(store.get(job_id), sample) for job_id, sample in samples.items()]
    say("\n" + render_results(results) + "\n\n" + summary(results, elapsed_s))
    return verdict(results, code, log_file, say)
