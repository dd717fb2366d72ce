"""Commands that run and control a pool: run, ensure, stop, restart, reload, scale, workers."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import signal
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

from ocrmp import logs
from ocrmp.cli import main
from ocrmp.cli.common import guarded
from ocrmp.cli.databases import prepare_databases
from ocrmp.cli.options import (
    DURATION,
    POOL_OPTIONS,
    RUN_OPTIONS,
    command_line,
    settings_from,
    with_options,
)
from ocrmp.config import Settings
from ocrmp.errors import OcrmpError
from ocrmp.pool import control
from ocrmp.pool.startrecord import (
    StartRecord,
    configuring,
    describe,
    load,
    save,
    start_environment,
)
from ocrmp.rundir import private_run_dir


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
    settings = prepare_databases(settings, wait_for_unreachable=True)
    record = StartRecord(args=command_line(run, {"config_file": config_file, **flags}),
                         cwd=os.getcwd(), env=configuring(os.environ))
    sys.exit(int(Master(settings).run(
        on_acquired=lambda: keep_start_record(settings, record))))


def keep_start_record(settings: Settings, record: StartRecord) -> None:
    """What `restart` and `ensure` start the pool with again; a pool that cannot keep it
    still runs (they then use their own settings)."""
    try:
        save(settings.run_dir, settings.pool_name, record)
    except (OSError, OcrmpError) as error:
        logging.getLogger("ocrmp.master").warning(
            "Could not keep how the pool was started (restart will use its own settings): "
            "%s", error)


def check_engine(settings: Settings) -> None:
    """A missing tesseract or language file (or a runner that cannot be found) stops the
    pool at start, not every job."""
    if settings.runner is not None:
        from ocrmp.pool.runners import resolve_runner

        resolve_runner(settings.runner)
        return
    from ocrmp.ocr.engines import check_engine as check_ocr_engine

    check_ocr_engine(settings.ocr)


@main.command()
@with_options(POOL_OPTIONS)
@click.option("--wait", "wait_s", type=DURATION, default=None,
              help="How long running jobs may take to finish before they are given back to "
                   "the queue [default: the pool's graceful timeout]")
@click.option("--now", is_flag=True, help="Give running jobs back to the queue and stop at "
                                          "once (INT)")
@guarded
def stop(config_file: Path | None, pool_name: str | None, wait_s: float | None,
         now: bool) -> None:
    """Stop a running pool: running jobs finish, or go back to the queue with their attempt
    given back (at once with --now, after --wait otherwise).

    \b
    Examples:
      ocrmp stop --pool-name ocr-pool
      ocrmp stop --wait 15m
    """
    settings = settings_from(config_file, pool_name=pool_name)
    pid = control.stop_master(settings, signal.SIGINT if now else signal.SIGTERM, wait_s)
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
    pid = control.signal_master(settings_from(config_file, pool_name=pool_name),
                                signal.SIGHUP)
    click.echo(f"reload requested (master pid {pid})")


@main.command(context_settings={"ignore_unknown_options": True})
@with_options(POOL_OPTIONS)
@click.argument("size", metavar="N|+N|-N")
@guarded
def scale(config_file: Path | None, pool_name: str | None, size: str) -> None:
    """Set a running pool's size to N, or change it by +N / -N (as `pm2 scale` does).

    \b
    Examples:
      ocrmp scale 3      # three workers
      ocrmp scale +1     # one more
      ocrmp scale -1     # one less
    """
    try:
        change = scale_request(size)
    except ValueError:
        raise click.BadParameter(f"expected N, +N or -N, got {size!r}",
                                 param_hint="N|+N|-N") from None
    settings = settings_from(config_file, pool_name=pool_name)
    pid = control.ask_size(settings, **change)
    what = f"{size}" if "by" in change else f"set to {size}"
    click.echo(f"pool size {what} requested (master pid {pid})")


def scale_request(text: str) -> dict[str, int]:
    """`scale`'s argument: N sets the size (at least 1), +N and -N change it (ValueError)."""
    value = int(text)
    if text.strip().startswith(("+", "-")):
        return {"by": value}
    if value < 1:
        raise ValueError(text)
    return {"size": value}


@main.command(context_settings={"ignore_unknown_options": True})
@with_options(POOL_OPTIONS + RUN_OPTIONS)
@guarded
def ensure(config_file: Path | None, **flags: Any) -> None:
    """Start the pool in the background unless it already runs (for cron: @reboot, */5).

    Takes the options of `ocrmp run`; without any, the pool starts as it was last started
    (its options, environment and directory, kept in the run directory).

    \b
    Example (crontab):
      */5 * * * * ocrmp ensure --size 2 --log-file /var/log/ocrmp.log
    """
    settings = settings_from(config_file, **flags)
    pid = control.master_of(settings)
    if pid is not None:
        click.echo(f"pool {settings.pool_name!r} already running (master pid {pid})")
        return
    start = how_to_start(settings, command_line(run, {"config_file": config_file, **flags}))
    pid = control.start_background(settings, start.args, env=start.env, cwd=start.cwd)
    click.echo(f"started pool {settings.pool_name!r} (master pid {pid})")


@main.command()
@with_options(POOL_OPTIONS + RUN_OPTIONS)
@click.option("--wait", "wait_s", type=DURATION, default=None,
              help="How long the old pool's running jobs may take to finish before they are "
                   "given back to the queue [default: its graceful timeout]")
@guarded
def restart(config_file: Path | None, wait_s: float | None, **flags: Any) -> None:
    """Drain the running pool gracefully, then start a fresh one in the background.

    The new pool has the settings the running one was started with (its options, its
    environment, its directory), kept in the run directory; given options of `ocrmp run`,
    it has those instead, in this command's environment. It says which it uses.

    \b
    Example (crontab, nightly):
      0 3 * * * ocrmp restart --size 2
    """
    settings = settings_from(config_file, **flags)
    start = how_to_start(settings, command_line(run, {"config_file": config_file, **flags}))
    with contextlib.suppress(control.NotRunning):
        control.stop_master(settings, signal.SIGTERM, wait_s)
    pid = control.start_background(settings, start.args, env=start.env, cwd=start.cwd)
    click.echo(f"restarted pool {settings.pool_name!r} (master pid {pid})")


@dataclass(frozen=True)
class Start:
    args: list[str]
    env: dict[str, str] | None = None  # None: this command's own
    cwd: str | None = None


def how_to_start(settings: Settings, given: list[str]) -> Start:
    """The pool's own settings, as it was last started (options, environment, directory),
    unless this command was given options of `ocrmp run`: then those, in this command's
    environment. Says which."""
    record = load(settings.run_dir, settings.pool_name)
    if given or record is None:
        why = "the options given" if given else f"no record of how pool " \
            f"{settings.pool_name!r} was started"
        click.echo(f"using this command's settings ({why}): ocrmp run {' '.join(given)}")
        return Start(given)
    click.echo(f"using the settings pool {settings.pool_name!r} was started with: "
               f"{describe(record)}")
    cwd = record.cwd if os.path.isdir(record.cwd) else None
    return Start(record.args, start_environment(record, os.environ), cwd)


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
