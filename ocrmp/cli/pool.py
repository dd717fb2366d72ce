"""Commands that run and control a pool: run, ensure, stop, restart, reload, scale, workers."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import click
import psutil

from ocrmp import logs
from ocrmp.cli import main
from ocrmp.cli.common import fail, guarded
from ocrmp.cli.databases import prepare_databases
from ocrmp.cli.options import DURATION, POOL_OPTIONS, RUN_OPTIONS, settings_from, with_options
from ocrmp.config import Settings
from ocrmp.exitcodes import ExitCode
from ocrmp.pool.pidfile import pidfile_path, proven_master, running_master
from ocrmp.rundir import check_run_dir, open_no_follow, private_run_dir


@main.command()
@with_options(POOL_OPTIONS + RUN_OPTIONS)
@guarded
def run(config_file: Path | None, **flags: Any) -> None:
    """Run the pool in the foreground: one master, SIZE workers.

    \b
    Examples:
      ocrmp run --size 2
      OCR_PROD=true PROD_DATABASE_URL=postgresql://... ocrmp run --max-memory 2G
      ocrmp run --size 2 --until-idle     # batch: stop when the queue is empty
    """
    from ocrmp.pool.master import Master

    settings = settings_from(config_file, **flags)
    private_run_dir(settings.run_dir)  # before a log file in it is opened
    logs.setup(settings.log_format, settings.log_file)
    check_engine(settings)
    settings = prepare_databases(settings)
    sys.exit(int(Master(settings).run()))


def check_engine(settings: Settings) -> None:
    """A missing tesseract or language file (or a runner that cannot be found) stops the
    pool at start, not every job."""
    if settings.runner is not None:
        from ocrmp.pool.runners import resolve_runner

        resolve_runner(settings.runner)
        return
    from ocrmp.ocr.engines import check_engine as check_ocr_engine

    check_ocr_engine(settings.ocr)


def _pidfile(config_file: Path | None, pool_name: str | None) -> tuple[Settings, Path]:
    settings = settings_from(config_file, pool_name=pool_name)
    return settings, pidfile_path(settings.run_dir, settings.pool_name)


def master_of(settings: Settings) -> int | None:
    """The pool's running master, proven so (NotTheMaster, UnsafeRunDir otherwise)."""
    check_run_dir(settings.run_dir)
    return proven_master(pidfile_path(settings.run_dir, settings.pool_name), settings.pool_name)


def _signal_master(config_file: Path | None, pool_name: str | None, signum: int) -> int:
    settings, path = _pidfile(config_file, pool_name)
    pid = master_of(settings)
    if pid is None:
        fail(f"no pool {settings.pool_name!r} is running (no locked pidfile at {path})",
             ExitCode.NOT_RUNNING)
        raise AssertionError("unreachable")
    os.kill(pid, signum)
    return pid


def _wait_gone(path: Path, pid: int, timeout_s: float) -> bool:
    """Wait for the master to exit: its lock released, and the process itself gone (it
    releases the lock a moment before it exits)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if running_master(path) is None and not _alive(pid):
            return True
        time.sleep(0.1)
    return False


def _alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


@main.command()
@with_options(POOL_OPTIONS)
@click.option("--wait", "wait_s", type=DURATION, default="120s",
              help="How long to wait for the pool to finish its jobs and exit")
@click.option("--now", is_flag=True, help="Release running jobs and stop at once (INT)")
@guarded
def stop(config_file: Path | None, pool_name: str | None, wait_s: float, now: bool) -> None:
    """Stop a running pool: running jobs finish (or, with --now, are released).

    \b
    Example:
      ocrmp stop --pool-name ocr-pool
    """
    _, path = _pidfile(config_file, pool_name)
    pid = _signal_master(config_file, pool_name, signal.SIGINT if now else signal.SIGTERM)
    if not _wait_gone(path, pid, wait_s):
        fail(f"master {pid} still running after {wait_s:.0f}s", ExitCode.FAILURE)
    click.echo(f"stopped pool (master pid {pid})")


@main.command()
@with_options(POOL_OPTIONS)
@guarded
def reload(config_file: Path | None, pool_name: str | None) -> None:
    """Reload configuration and replace workers one by one, losing no job (HUP).

    \b
    Example:
      ocrmp reload
    """
    pid = _signal_master(config_file, pool_name, signal.SIGHUP)
    click.echo(f"reload requested (master pid {pid})")


@main.command()
@with_options(POOL_OPTIONS)
@click.argument("delta", metavar="±N")
@guarded
def scale(config_file: Path | None, pool_name: str | None, delta: str) -> None:
    """Add (+N) or remove (-N) workers of a running pool (TTIN / TTOU).

    \b
    Examples:
      ocrmp scale +1
      ocrmp scale -- -2
    """
    try:
        count = int(delta)
    except ValueError:
        raise click.BadParameter(f"expected +N or -N, got {delta!r}", param_hint="±N") from None
    signum = signal.SIGTTIN if count > 0 else signal.SIGTTOU
    for _ in range(abs(count)):
        _signal_master(config_file, pool_name, signum)
        time.sleep(0.05)  # separate signals: the kernel folds identical pending ones
    click.echo(f"pool size {'+' if count > 0 else ''}{count} requested")


def _start_background(settings: Settings, run_args: list[str]) -> int:
    log_file = settings.log_file or settings.run_dir / f"{settings.pool_name}.log"
    private_run_dir(settings.run_dir)
    command = [sys.executable, "-m", "ocrmp", "run", *run_args]
    if "--log-file" not in run_args:
        command += ["--log-file", str(log_file)]
    log_fd = open_no_follow(log_file, os.O_WRONLY | os.O_APPEND | os.O_CREAT)
    with open(os.devnull, "rb") as devnull, open(log_fd, "ab") as out:
        proc = subprocess.Popen(command, stdin=devnull, stdout=out, stderr=out,
                                start_new_session=True)
    path = pidfile_path(settings.run_dir, settings.pool_name)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        pid = running_master(path)
        if pid is not None:
            return pid
        if proc.poll() is not None:
            fail(f"the pool exited at start with code {proc.returncode}; see {log_file}",
                 ExitCode.FAILURE)
        time.sleep(0.1)
    fail(f"the pool did not start within 60s; see {log_file}", ExitCode.FAILURE)
    raise AssertionError("unreachable")


@main.command(context_settings={"ignore_unknown_options": True})
@with_options(POOL_OPTIONS + RUN_OPTIONS)
@guarded
def ensure(config_file: Path | None, **flags: Any) -> None:
    """Start the pool in the background unless it already runs (for cron: @reboot, */5).

    Takes the options of `ocrmp run`.

    \b
    Example (crontab):
      */5 * * * * ocrmp ensure --size 2 --log-file /var/log/ocrmp.log
    """
    settings = settings_from(config_file, **flags)
    pid = master_of(settings)
    if pid is not None:
        click.echo(f"pool {settings.pool_name!r} already running (master pid {pid})")
        return
    pid = _start_background(settings, sys.argv[2:])
    click.echo(f"started pool {settings.pool_name!r} (master pid {pid})")


def without_option(args: list[str], name: str) -> list[str]:
    """args without `name VALUE` and `name=VALUE` (restart's own option, not run's)."""
    kept: list[str] = []
    skip = False
    for arg in args:
        if skip:
            skip = False
        elif arg == name:
            skip = True
        elif not arg.startswith(f"{name}="):
            kept.append(arg)
    return kept


@main.command()
@with_options(POOL_OPTIONS + RUN_OPTIONS)
@click.option("--wait", "wait_s", type=DURATION, default="600s",
              help="How long the old pool may take to finish its jobs")
@guarded
def restart(config_file: Path | None, wait_s: float, **flags: Any) -> None:
    """Drain the running pool gracefully, then start a fresh one in the background.

    Takes the options of `ocrmp run` for the new pool.

    \b
    Example (crontab, nightly):
      0 3 * * * ocrmp restart --size 2
    """
    settings = settings_from(config_file, **flags)
    path = pidfile_path(settings.run_dir, settings.pool_name)
    old = master_of(settings)
    if old is not None:
        os.kill(old, signal.SIGTERM)
        if not _wait_gone(path, old, wait_s):
            fail(f"master {old} still running after {wait_s:.0f}s", ExitCode.FAILURE)
    pid = _start_background(settings, without_option(sys.argv[2:], "--wait"))
    click.echo(f"restarted pool {settings.pool_name!r} (master pid {pid})")


@main.command()
@with_options(POOL_OPTIONS)
@click.option("--json", "as_json", is_flag=True, help="Print JSON")
@guarded
def workers(config_file: Path | None, pool_name: str | None, as_json: bool) -> None:
    """Show the live slot table of a pool on this host (like `pm2 list`).

    \b
    Example:
      ocrmp workers --pool-name ocr-pool
    """
    from ocrmp.pool.view import read_slots, render_slots

    settings = settings_from(config_file, pool_name=pool_name)
    rows = read_slots(settings.pool_name)
    if as_json:
        click.echo(json.dumps(rows, indent=2))
    else:
        click.echo(render_slots(rows))
