"""`ocrmp job` and `ocrmp cancel`: one job looked at, or stopped, by its id or number."""

from __future__ import annotations

import getpass
import json
import socket
from pathlib import Path

import click

from ocrmp.cli import main
from ocrmp.cli.common import Command, guarded, usage_error
from ocrmp.cli.db import env_option
from ocrmp.cli.options import POOL_OPTIONS, settings_from, with_options
from ocrmp.cli.queue import open_store
from ocrmp.errors import OcrmpError
from ocrmp.jobview import gather, render, resolve
from ocrmp.vocabulary import CANCELLED, Environment, Status


class NotCancelled(OcrmpError):
    """The job has ended already: nothing to cancel."""


@main.command(cls=Command)
@with_options(POOL_OPTIONS)
@click.argument("key", metavar="ID|NUMBER")
@env_option(Environment.DEV.value, "Environment of the job")
@click.option("--json", "as_json", is_flag=True, help="The whole row, result included, and "
              "the attempts, as JSON")
@click.option("--text", "as_text", is_flag=True, help="Only the text, whole")
@guarded
def job(config_file: Path | None, pool_name: str | None, key: str, env: str, as_json: bool,
        as_text: bool) -> None:
    """One job (like `pm2 describe`): status, attempts and their history, worker, times,
    error kind and message, flagged pages, and the first lines of its text.

    \b
    Examples:
      ocrmp job 0b6f1c9e-8a4d-4a53-9a51-2f0d3c1e7b11
      ocrmp job "1 234 567" --env prod
      ocrmp job "1 234 567" --text > deed.txt
    """
    if as_json and as_text:
        raise usage_error("--json and --text exclude each other")
    store = open_store(settings_from(config_file, pool_name=pool_name), env)
    try:
        view = gather(store, key)
    finally:
        store.close()
    if as_json:
        click.echo(json.dumps(view.to_json(), indent=2, ensure_ascii=False))
    elif as_text:
        click.echo(view.text, nl=not view.text.endswith("\n"))
    else:
        click.echo(render(view))


@main.command(cls=Command)
@with_options(POOL_OPTIONS)
@click.argument("key", metavar="ID|NUMBER")
@env_option(Environment.DEV.value, "Environment of the job")
@guarded
def cancel(config_file: Path | None, pool_name: str | None, key: str, env: str) -> None:
    """Cancel a job: a ready one goes to error (4) with the kind `cancelled`; a running one
    too, and its worker stops at its next page. Done and failed jobs are left alone.

    \b
    Examples:
      ocrmp cancel 0b6f1c9e-8a4d-4a53-9a51-2f0d3c1e7b11
      ocrmp cancel "1 234 567" --env prod
    """
    store = open_store(settings_from(config_file, pool_name=pool_name), env)
    try:
        job_id = resolve(store, key)
        who = f"{getpass.getuser()}@{socket.gethostname()}"
        outcome = store.cancel(job_id, f"{CANCELLED}: cancelled with `ocrmp cancel` by {who}")
    finally:
        store.close()
    if outcome is None:
        raise NotCancelled(f"job {job_id} is gone from {env}")
    was, cancelled = outcome
    status = Status.of(was)
    words = status.words if status else f"status {was}"
    if not cancelled:
        raise NotCancelled(f"job {job_id} is {words} (status {was}): not cancelled")
    running = " (its worker stops at its next page)" if was == Status.RUNNING else ""
    click.echo(f"cancelled job {job_id} ({words}){running}")
