"""The databases a command works on: each environment's configured DSN, else the embedded
server's, said on stderr when that server is the one."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import click

from ocrmp import embedded
from ocrmp.config import Settings
from ocrmp.schema import require_current


def announce(where: Path) -> None:
    click.echo(f"ocrmp: embedded PostgreSQL under {where}", err=True)


def prepare_databases(settings: Settings) -> Settings:
    """Start the embedded server if it is the default, and check every database once."""
    environments = embedded.resolve(settings.environments, settings.data_dir,
                                    announce=announce)
    for env, dsn in environments.items():
        require_current(env, dsn)
    return replace(settings, environments=environments)


def resolve_for_reading(settings: Settings) -> Settings:
    """Settings whose embedded marker is replaced by the running embedded server's DSN."""
    return replace(settings, environments=embedded.resolve(settings.environments,
                                                           settings.data_dir))
