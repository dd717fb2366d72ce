"""`ocrmp demo`: sample documents, enqueued, OCR'd by a live pool, scored against the truth."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from ocrmp.cli import main
from ocrmp.cli.common import fail, guarded
from ocrmp.cli.options import env_help, settings_from
from ocrmp.exitcodes import ExitCode


@main.command()
@click.option("--documents", type=click.IntRange(1, 50), default=6,
              help="Sample documents to generate (kinds alternate: acte, index)")
@click.option("--pages", type=click.IntRange(1, 10), default=2, help="Pages per document")
@click.option("--size", type=click.IntRange(1, 16), default=2, help="Workers in the pool")
@click.option("--data-dir", type=click.Path(file_okay=False, path_type=Path),
              help=env_help("Embedded database, sample documents and the pool's log "
                            "(default: ~/.local/share/ocrmp)", "OCRMP_DATA_DIR"))
@click.option("--keep/--fresh", default=False,
              help="Keep the jobs of earlier demos (default: remove them first)")
@click.option("--runner", hidden=True,
              help="What the pool runs instead of the OCR pipeline: module:attr[:argument]")
@click.option("--pool-name", default="demo", hidden=True, help="Name of the demo's pool")
@guarded
def demo(documents: int, pages: int, size: int, data_dir: Path | None, keep: bool,
         runner: str | None, pool_name: str) -> None:
    """Generate sample acte and index scans, OCR them with a pool, and show the results.

    With no database configured, everything runs on the embedded PostgreSQL under the data
    directory; with DEV_DATABASE_URL set, the demo uses that database. Each result shows
    the character error rate (CER) against the text the samples were drawn from.

    \b
    Examples:
      ocrmp demo
      ocrmp demo --documents 2 --pages 1 --size 1

    \b
    Exit status: 0 when every document is done, 1 when one is not (each listed),
    3 bad configuration, 4 database unreachable, 5 a demo pool already runs.
    """
    from ocrmp.demo.run import Options, run_demo

    settings = settings_from(None, data_dir=data_dir)
    options = Options(documents=documents, pages=pages, size=size, fresh=not keep,
                      runner=runner, pool_name=pool_name)
    outcome = run_demo(settings, options, sys.stdout)
    if outcome.code != ExitCode.OK:
        fail(outcome.problem or "the demo failed", outcome.code)
