"""`ocrmp status`: the queue, the fleet and the local pools (the guide's check-ocr-queue)."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import click

from ocrmp.cli import main
from ocrmp.cli.common import guarded
from ocrmp.cli.options import DURATION, POOL_OPTIONS, settings_from, with_options
from ocrmp.exitcodes import ExitCode


@main.command()
@with_options(POOL_OPTIONS)
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts")
@click.option("--watch", "watch_s", type=DURATION, default=None,
              help="Refresh every interval (e.g. 2s) until interrupted")
@guarded
def status(config_file: Path | None, pool_name: str | None, as_json: bool,
           watch_s: float | None) -> None:
    """Show every enabled environment's queue, the fleet of pools and this host's workers.
    Exits 4 when an environment's database cannot be read.

    For each environment and kind: jobs by status, how many are claimable now, waiting on
    backoff, with attempts exhausted, stuck (running with an expired lease), the age of
    the oldest ready job, and how many done documents have pages flagged for a person to
    check (by reason in --json; `ocrmp review` lists them).

    \b
    Examples:
      ocrmp status
      ocrmp status --json | jq '.environments.prod'
      ocrmp status --watch 2s
    """
    from ocrmp.cli.databases import resolve_for_reading
    from ocrmp.pool.view import local_pools, render_pools
    from ocrmp.status import gather, render

    settings = resolve_for_reading(settings_from(config_file, pool_name=pool_name))
    while True:
        report = gather(settings) | {"local_pools": local_pools(settings.run_dir)}
        if as_json:
            click.echo(json.dumps(report, indent=2, default=str))
        else:
            if watch_s:
                click.clear()
            click.echo("\n".join([render(report), *render_pools(report["local_pools"])]))
        if not watch_s:
            break
        time.sleep(watch_s)
    from ocrmp.status import unreachable

    if unreachable(report):  # printed above; a script must not take it for a healthy queue
        sys.exit(int(ExitCode.DATABASE))
