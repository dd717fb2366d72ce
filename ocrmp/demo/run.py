"""`ocrmp demo`: sample registry documents through a real pool, watched live, then scored.

The pool runs as a child process started exactly as a user would start it (`ocrmp run
--until-idle`): the demo shows the real command at work, not a shortcut around it.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from ocrmp.config import EMBEDDED, Settings
from ocrmp.demo.display import LiveDisplay, watch
from ocrmp.demo.samples import FILE_PREFIX, Say, demo_prefixes, plural, prepare_samples
from ocrmp.demo.scoring import Result, render_results, result_of, summary
from ocrmp.demo.store import DemoStore
from ocrmp.errors import ConfigError
from ocrmp.exitcodes import ExitCode
from ocrmp.vocabulary import Environment

DEFAULT_POOL_NAME = "demo"
# The child must serve only the demo's dev database and read only the demo's files: a
# config file would override the variables set for it, a URL would hide the storage root.
_NOT_INHERITED = ("OCRMP_CONFIG", "OCRMP_STORAGE_URL", "OCRMP_POOL_NAME")


@dataclass(frozen=True)
class Options:
    documents: int = 6
    pages: int = 2
    size: int = 2
    fresh: bool = True
    runner: str | None = None  # hidden: a test double in place of the OCR pipeline
    pool_name: str = DEFAULT_POOL_NAME  # hidden: lets tests run demos side by side


@dataclass(frozen=True)
class Outcome:
    code: ExitCode
    problem: str | None = None  # the one line for stderr when code is not OK


# -- where things live ----------------------------------------------------------------


def dev_database(settings: Settings, say: Say) -> str:
    """The dev database's DSN: the configured one, or the embedded server, started."""
    from ocrmp.embedded import resolve
    from ocrmp.schema import require_current

    dev = settings.environments.get(Environment.DEV)
    if dev is None:
        raise ConfigError("ocrmp demo writes sample jobs to a dev database only, and no dev "
                          "database is configured: set DEV_DATABASE_URL, or unset the "
                          "*_DATABASE_URL variables to use the embedded server")
    if dev != EMBEDDED:
        say("database   the configured dev database (DEV_DATABASE_URL): the pool will also "
            "serve any other ready job there")
    with warnings.catch_warnings():
        # pgserver asks platformdirs for a runtime directory it does not use here; on a
        # machine without XDG_RUNTIME_DIR that warning would be the demo's only noise.
        warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")
        dsn = resolve({Environment.DEV: dev}, settings.data_dir, announce=lambda where: say(
            f"database   embedded PostgreSQL under {where} (started on demand, kept for next "
            "time)"))[Environment.DEV]
    require_current(Environment.DEV, dsn)
    return dsn


def storage_root(settings: Settings) -> Path:
    """The configured root, else the data directory's (a storage URL is not the demo's)."""
    return settings.storage_root or settings.data_dir / "storage"


# -- the pool -------------------------------------------------------------------------


def pool_command(options: Options, log_file: Path) -> list[str]:
    command = [sys.executable, "-m", "ocrmp", "run", "--size", str(options.size),
               "--until-idle", "--pool-name", options.pool_name, "--log-format", "json",
               "--log-file", str(log_file)]
    if options.runner:
        command += ["--runner", options.runner]
    return command


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
    root = storage_root(settings)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    log_file = settings.data_dir / "demo.log"
    log_file.write_bytes(b"")  # each run's log on its own
    say(f"documents  {root}/{{acte,index}}/{FILE_PREFIX}*.pdf (with their .truth.txt)")
    say(f"pool log   {log_file}")
    store = DemoStore(dsn)
    try:
        return _run(store, options, root, dsn, log_file, out, say)
    finally:
        store.close()


def _run(store: DemoStore, options: Options, root: Path, dsn: str, log_file: Path,
         out: TextIO, say: Say) -> Outcome:
    if options.fresh:
        say(f"removed    {store.forget(demo_prefixes())} jobs of earlier demos")
    samples = prepare_samples(store, options.documents, options.pages, root, say)
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
