"""`ocrmp db migrate` and `ocrmp db check`, and what the database commands share."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import click

from ocrmp import diagnose as diag
from ocrmp import embedded
from ocrmp.cli import main
from ocrmp.cli.common import Group, guarded
from ocrmp.cli.databases import announce
from ocrmp.cli.options import POOL_OPTIONS, one_of, settings_from, with_options
from ocrmp.config import Settings
from ocrmp.errors import ConfigError, DatabaseError
from ocrmp.exitcodes import ExitCode
from ocrmp.store import OPERATOR_STATEMENT_S, JobStore
from ocrmp.vocabulary import Environment

ENV_VARS = "OCR_DEV, OCR_STAGING, OCR_PROD and *_DATABASE_URL"


def env_option(default: str | None, what: str = "Environment whose queue to change") -> Any:
    """--env: repeatable for commands that read every enabled environment by default."""
    if default is None:
        return click.option(
            "--env", "envs", multiple=True, type=one_of(Environment),
            help=f"Environment, repeatable (default: every enabled one) [env var: {ENV_VARS}]")
    return click.option("--env", "env", type=one_of(Environment), default=default,
                        help=f"{what} [env var: {ENV_VARS}]")


def chosen_environments(settings: Settings, wanted: Sequence[str]) -> dict[str, str]:
    """The DSNs of the wanted environments (all enabled ones when none is named)."""
    enabled = settings.environments
    for env in wanted:
        if env not in enabled:
            raise ConfigError(
                f"the {env} environment is not enabled (enabled: {', '.join(enabled)}): set "
                f"OCR_{env.upper()}=true and {env.upper()}_DATABASE_URL")
    names = wanted or tuple(enabled)
    return {env: enabled[env] for env in Environment if env in names}


def unmigrated(environments: dict[str, str], data_dir: Path) -> dict[str, str]:
    """The embedded server, if it is one, left unmigrated, so `db migrate` reports what it
    applies and `db check` what is missing."""
    return embedded.resolve(environments, data_dir, migrated=False, announce=announce)


@main.group("db", cls=Group)
def db() -> None:
    """Prepare and verify the queue's databases.

    \b
    Examples:
      ocrmp db migrate
      ocrmp db check --env prod
    """


@db.command("migrate")
@with_options(POOL_OPTIONS)
@env_option(None)
@guarded
def migrate_command(config_file: Path | None, pool_name: str | None,
                    envs: tuple[str, ...]) -> None:
    """Apply the migrations each database lacks (safe to run again; additive only).

    \b
    Example:
      OCR_PROD=true PROD_DATABASE_URL=postgresql://... ocrmp db migrate --env prod
    """
    from ocrmp.schema import migrate

    settings = settings_from(config_file, pool_name=pool_name)
    environments = unmigrated(chosen_environments(settings, envs), settings.data_dir)
    for env, dsn in environments.items():
        try:
            applied = migrate(dsn)
        except DatabaseError as error:
            raise type(error)(f"{env}: {error}") from error
        click.echo(f"{env}: applied {', '.join(applied)}" if applied else f"{env}: up to date")


@db.command("check")
@with_options(POOL_OPTIONS)
@env_option(None)
@click.option("--json", "as_json", is_flag=True, help="Print JSON, for scripts")
@guarded
def check_command(config_file: Path | None, pool_name: str | None, envs: tuple[str, ...],
                  as_json: bool) -> None:
    """Verify schema, status ids, trigger, claim index and migrations, and say why any
    ready job (3) is not claimable.

    Exits 0 when healthy, 11 when a problem is found, 4 when a database is unreachable.

    \b
    Examples:
      ocrmp db check
      ocrmp db check --env prod --json | jq '.environments[].findings'
    """
    settings = settings_from(config_file, pool_name=pool_name)
    environments = unmigrated(chosen_environments(settings, envs), settings.data_dir)
    reports: list[diag.Report] = []
    errors: dict[str, DatabaseError] = {}
    for env, dsn in environments.items():
        try:
            reports.append(_diagnose(env, dsn))
        except DatabaseError as error:
            errors[env] = error  # one database down must not hide the others' state
    _print_check(reports, errors, as_json)
    if errors:
        raise SystemExit(int(ExitCode.DATABASE))
    if any(not report.healthy for report in reports):
        raise SystemExit(int(ExitCode.CHECK_FAILED))


def _diagnose(env: str, dsn: str) -> diag.Report:
    store = JobStore(dsn, env, application_name="ocrmp-check",
                     statement_timeout_s=OPERATOR_STATEMENT_S)
    try:
        return diag.diagnose(store)
    finally:
        store.close()


def _print_check(reports: list[diag.Report], errors: dict[str, DatabaseError],
                 as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps({
            "healthy": not errors and all(report.healthy for report in reports),
            "environments": [report.to_json() for report in reports]
            + [{"env": env, "healthy": False, "error": str(error)}
               for env, error in errors.items()],
        }, indent=2, default=str, ensure_ascii=False))
    else:
        for report in reports:
            click.echo(diag.render(report))
    for env, error in errors.items():
        click.echo(f"ocrmp: error: {env}: {error}", err=True)
