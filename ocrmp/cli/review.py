"""`ocrmp review`: the done documents whose pages were flagged, to look at or read again."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from ocrmp.cli import main
from ocrmp.cli.common import Command, guarded, usage_error
from ocrmp.cli.db import env_option
from ocrmp.cli.options import POOL_OPTIONS, one_of, settings_from, with_options
from ocrmp.cli.queue import open_store, requeued_line
from ocrmp.review import FlaggedDocument, list_flagged, render_document, summary
from ocrmp.store import JobStore
from ocrmp.vocabulary import Environment, Kind, PageFlag


@main.command(cls=Command)
@with_options(POOL_OPTIONS)
@env_option(Environment.DEV.value, "Environment whose documents to list")
@click.option("--kind", type=one_of(Kind), help="Only documents of this kind")
@click.option("--flag", "flags", multiple=True, type=one_of(PageFlag),
              help="Only documents with a page flagged for this reason (repeatable: any of "
              "them)")
@click.option("--limit", type=click.IntRange(1), default=50,
              help="List at most this many documents, newest first")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts")
@click.option("--requeue", is_flag=True,
              help="Put the listed documents back to ready (3) for another reading")
@click.option("--dry-run", is_flag=True,
              help="With --requeue: show what would move; change nothing")
@guarded
def review(config_file: Path | None, pool_name: str | None, env: str, kind: str | None,
           flags: tuple[str, ...], limit: int, as_json: bool, requeue: bool,
           dry_run: bool) -> None:
    """List done documents (5) with pages flagged for a person to check, newest first:
    id, document number, kind, when it was done, and each flagged page with its reasons.

    A flagged page kept its text, but it may read badly: low confidence, mostly non-words,
    more characters than the page can hold, handwriting, an orientation that could not be
    told, or an index table not read into rows. --requeue puts exactly the documents listed
    back to ready (3), attempts reset, as `ocrmp requeue` does.

    \b
    Examples:
      ocrmp review --env prod
      ocrmp review --env prod --kind index --flag table_unread --limit 10
      ocrmp review --flag orientation_uncertain --requeue --dry-run
      ocrmp review --json | jq -r '.documents[].id'
    """
    if dry_run and not requeue:
        raise usage_error("--dry-run goes with --requeue")
    settings = settings_from(config_file, pool_name=pool_name)
    store = open_store(settings, env)
    try:
        documents = list_flagged(store, kind=kind, flags=flags, limit=limit)
        moved = _requeue(store, documents, dry_run) if requeue else []
    finally:
        store.close()
    if as_json:
        report: dict[str, Any] = {"env": env, "documents": [d.to_json() for d in documents]}
        if requeue:
            report |= {"requeued": moved, "dry_run": dry_run}
        click.echo(json.dumps(report, indent=2))
        return
    for document in documents:
        click.echo(render_document(document))
    click.echo(summary(len(documents), env, kind=kind, flags=flags, limit=limit))
    if requeue:
        click.echo(requeued_line(len(moved), env, dry_run))
        left = sorted({d.id for d in documents} - set(moved))
        if left:
            click.echo(f"not moved (no longer done, or being written by a pool): "
                       f"{', '.join(left)}", err=True)


def _requeue(store: JobStore, documents: list[FlaggedDocument], dry_run: bool) -> list[str]:
    """The listed documents back to 3, in the statement `ocrmp requeue` runs; the ids
    moved, in the listing's order."""
    if not documents:
        return []  # no ids would mean no filter: every done row
    rows = store.requeue(dry_run=dry_run, errored=False, exhausted=False, stuck=False,
                         done=True, ids=[document.id for document in documents])
    moved = {row["id"] for row in rows}
    return [document.id for document in documents if document.id in moved]
