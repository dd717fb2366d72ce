"""The databases a command works on: each environment's configured DSN, else the embedded
server's, said on stderr when that server is the one."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import click

from ocrmp import embedded
from ocrmp.config import Settings
from ocrmp.db import check_dsn
from ocrmp.errors import DatabaseUnavailable
from ocrmp.schema import require_current


def announce(where: Path) -> None:
    click.echo(f"ocrmp: embedded PostgreSQL under {where}", err=True)


def prepare_databases(settings: Settings, *, wait_for_unreachable: bool = False) -> Settings:
    """Start the embedded server if it is the default, and check every database once.

    A DSN that cannot be parsed, or a database that answers without ocrmp's migrations,
    is an error here: waiting would not fix either. With `wait_for_unreachable` (a pool
    starting), one that cannot be reached is not: the master starts, serves the others and
    waits for it (see `Scheduler`)."""
    environments = embedded.resolve(settings.environments, settings.data_dir,
                                    announce=announce)
    for env, dsn in environments.items():
        check_dsn(dsn, env)
        try:
            require_current(env, dsn)
        except DatabaseUnavailable:
            if not wait_for_unreachable:
                raise  # the master says so once, and retries
    return replace(settings, environments=environments)


def resolve_for_reading(settings: Settings) -> Settings:
    """Settings whose embedded marker is replaced by the running embedded server's DSN."""
    return replace(settings, environments=embedded.resolve(settings.environments,
                                                           settings.data_dir))
