"""`ocrmp enqueue` and `ocrmp requeue`: feeding the queue by hand and giving jobs another go."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager
from dataclasses import replace
from pathlib import Path
from typing import Any

import click

from ocrmp.cli import main
from ocrmp.cli.common import Command, fail, guarded, usage_error
from ocrmp.cli.databases import prepare_databases
from ocrmp.cli.db import chosen_environments, env_option
from ocrmp.cli.options import POOL_OPTIONS, env_help, one_of, settings_from, with_options
from ocrmp.config import Settings
from ocrmp.exitcodes import ExitCode
from ocrmp.storage_put import InputError, copy_into, expand, reference_in, sha256_of
from ocrmp.store import OPERATOR_STATEMENT_S, JobStore
from ocrmp.vocabulary import Environment, Kind, Status

PROGRESS_FROM = 20  # files; below this a progress bar is noise


def open_store(settings: Settings, env: str) -> JobStore:
    """The migrated queue of one environment, starting the embedded server if it is the one."""
    dsn = chosen_environments(settings, (env,))
    ready = prepare_databases(replace(settings, environments=dsn))
    return JobStore(ready.environments[env], env, statement_timeout_s=OPERATOR_STATEMENT_S)


@main.command(cls=Command)
@with_options(POOL_OPTIONS)
@click.argument("files", nargs=-1, required=True)
@click.option("--kind", type=one_of(Kind), required=True,
              help="Document kind, also the storage bucket")
@env_option(Environment.DEV.value)
@click.option("--document-number", help="Registry document number (one file only; "
              "default: each file's name without extension)")
@click.option("--copy/--reference", "copy", default=True,
              help="Copy the files into the storage root, or reference files already there")
@click.option("--allow-duplicate", is_flag=True,
              help="Queue a document even if the same content is queued already")
@click.option("--storage-root", type=click.Path(file_okay=False, path_type=Path),
              envvar="OCRMP_STORAGE_ROOT", show_envvar=False,
              help=env_help("Where workers read documents (default: DATA_DIR/storage)",
                            "OCRMP_STORAGE_ROOT"))
@guarded
def enqueue(config_file: Path | None, pool_name: str | None, files: tuple[str, ...],
            kind: str, env: str, document_number: str | None, copy: bool,
            allow_duplicate: bool, storage_root: Path | None) -> None:
    """Put PDFs or images (FILES: files, directories, globs) in storage and queue them
    ready for OCR (status 3), all in one transaction.

    Every file is checked first as the OCR would check it (a PDF or an image by its bytes,
    readable, not damaged or encrypted, with pages), and the same content is not queued
    twice (the row it repeats is named) unless --allow-duplicate: one bad file, nothing
    queued.

    \b
    Examples:
      ocrmp enqueue scans/*.pdf --kind acte
      ocrmp enqueue ledgers/ --kind index --env staging
      ocrmp enqueue 1234567.pdf --kind acte --document-number "1 234 567"
    """
    settings = settings_from(config_file, pool_name=pool_name)
    root = storage_root or settings.data_dir / "storage"
    try:
        count = _enqueue(settings, files, kind, env, document_number,
                         lambda path: copy_into(root, kind, path) if copy
                         else reference_in(root, path), allow_duplicate=allow_duplicate)
    except InputError as error:
        fail(str(error), ExitCode.INPUT)
    except OSError as error:
        fail(f"cannot store {error.filename}: {error.strerror}", ExitCode.INPUT)
    click.echo(f"enqueued {count} document{'s' if count != 1 else ''} ({kind}) into {env}")


def _enqueue(settings: Settings, files: tuple[str, ...], kind: str, env: str,
             document_number: str | None, place: Callable[[Path], str], *,
             allow_duplicate: bool = False) -> int:
    """Check every file, then store them all, then queue them all: one bad file, nothing."""
    paths = expand(files)
    if document_number is not None and len(paths) > 1:
        raise usage_error(f"--document-number names one document, but {len(paths)} files "
                          "were given")
    shas = _check(paths, settings)
    store = open_store(settings, env)  # before storing: an unreachable database stores nothing
    try:
        if not allow_duplicate:
            _refuse_duplicates(paths, shas, store, env)
        with _progress(paths, "storing") as items:
            documents = [(kind, place(path), document_number or path.stem) for path in items]
        return len(store.enqueue_many(documents, shas))
    finally:
        store.close()


def _check(paths: list[Path], settings: Settings) -> list[str]:
    """Each file as the OCR would take it (its DocumentError otherwise); their sha256."""
    from ocrmp.ocr.admission import admit  # pdfium loads here, not with every command

    shas = []
    with _progress(paths, "checking") as items:
        for path in items:
            admit(path, settings.ocr)
            shas.append(sha256_of(path))
    return shas


def _refuse_duplicates(paths: list[Path], shas: list[str], store: JobStore, env: str) -> None:
    """InputError for a file whose content is queued already, or given twice."""
    first: dict[str, Path] = {}
    for path, sha in zip(paths, shas, strict=True):
        if sha in first:
            raise InputError(f"{path}: same content as {first[sha]}, given too; "
                             "--allow-duplicate queues both")
        first[sha] = path
    for row in store.same_content(shas):
        status = Status.of(row["status_id"])
        raise InputError(f"{first[row['sha256']]}: same content as job {row['id']} "
                         f"({row['document_number'] or '-'}, {row['document_source']}, "
                         f"{status.words if status else row['status_id']}) in {env}; "
                         "--allow-duplicate queues it again")


def _progress(paths: list[Path], label: str) -> AbstractContextManager[Iterable[Path]]:
    if len(paths) > PROGRESS_FROM:
        return click.progressbar(paths, label=label, file=sys.stderr)
    return contextlib.nullcontext(paths)


@main.command(cls=Command)
@with_options(POOL_OPTIONS)
@env_option(Environment.DEV.value)
@click.option("--id", "ids", multiple=True, help="Job id (repeatable)")
@click.option("--kind", type=one_of(Kind), help="Only jobs of this kind")
@click.option("--error-contains", help="Only jobs whose ocr_error contains this text "
              "(case-insensitive)")
@click.option("--exhausted", is_flag=True, help="Ready jobs (3) whose attempts are used up")
@click.option("--stuck", is_flag=True, help="Running jobs (6) whose lease expired, or that "
              "have none and started over 30 min ago")
@click.option("--all", "everything", is_flag=True,
              help="Every errored (4), exhausted and stuck job")
@click.option("--dry-run", is_flag=True, help="Show what would move; change nothing")
@guarded
def requeue(config_file: Path | None, pool_name: str | None, env: str, ids: tuple[str, ...],
            kind: str | None, error_contains: str | None, exhausted: bool, stuck: bool,
            everything: bool, dry_run: bool) -> None:
    """Move errored (4), exhausted or stuck jobs back to ready (3) with their attempts reset.

    Candidates are errored, exhausted and stuck jobs (only exhausted or stuck ones with
    --exhausted or --stuck); --id, --kind and --error-contains narrow them. A job running
    under a live lease, and rows of status 1, 2 or 5, are never moved (`ocrmp review
    --requeue` reads flagged done documents again).

    \b
    Examples:
      ocrmp requeue --error-contains timeout --dry-run
      ocrmp requeue --exhausted --env prod
      ocrmp requeue --id 3f0c... --id 9a41...
    """
    narrowed = bool(ids or kind or error_contains or exhausted or stuck)
    if narrowed == everything:
        raise usage_error("choose jobs with --id, --kind, --error-contains, --exhausted "
                               "or --stuck, or pass --all alone")
    settings = settings_from(config_file, pool_name=pool_name)
    categories = exhausted or stuck
    store = open_store(settings, env)
    try:
        rows = store.requeue(dry_run=dry_run, errored=not categories,
                             exhausted=exhausted or not categories,
                             stuck=stuck or not categories, ids=ids, kind=kind,
                             error_contains=error_contains)
    finally:
        store.close()
    _print_requeued(rows, env, dry_run, ids)


def _print_requeued(rows: list[dict[str, Any]], env: str, dry_run: bool,
                    ids: tuple[str, ...]) -> None:
    if dry_run:
        for row in rows:
            status = Status.of(row["status_id"])
            error = " ".join((row["ocr_error"] or "").split())[:100]
            click.echo(f"{row['id']}  {row['document_number'] or '-'}  "
                       f"{row['document_source'] or '-'}  {row['status_id']} "
                       f"{status.words if status else '?'}  {error}".rstrip())
    click.echo(requeued_line(len(rows), env, dry_run))
    left = sorted(set(ids) - {row["id"] for row in rows})
    if left:
        click.echo(f"not moved (not errored, exhausted or stuck, or unknown): "
                   f"{', '.join(left)}", err=True)


def requeued_line(count: int, env: str, dry_run: bool) -> str:
    verb = "would move" if dry_run else "moved"
    return f"{verb} {count} job{'s' if count != 1 else ''} back to ready (3) in {env}"
