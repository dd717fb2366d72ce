"""What the commands share: the pool's options, settings from them, and click parameter
types that reuse the configuration's parsers, so a flag and its environment variable accept
the same values and fail with the same message."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from typing import Any

import click

from ocrmp import config
from ocrmp.config import Settings
from ocrmp.ocr.settings import ENGINES


class Parsed(click.ParamType):
    def __init__(self, name: str, parse: Callable[[str], Any]) -> None:
        self.name = name
        self.parse = parse

    @staticmethod
    def show(value: float) -> str:
        """The value as text its parser reads back to the same number."""
        return str(value) if isinstance(value, int) else format(Decimal(repr(value)), "f")

    def convert(self, value: Any, param: click.Parameter | None,
                ctx: click.Context | None) -> Any:
        if not isinstance(value, str):
            return value
        try:
            return self.parse(value)
        except ValueError as error:
            self.fail(str(error), param, ctx)


SIZE = Parsed("size", config.parse_bytes)
DURATION = Parsed("duration", config.parse_duration)
SHARE = Parsed("share", config.parse_fraction)


def env_help(text: str, variable: str) -> str:
    return f"{text} [env var: {variable}]"


def one_of(members: Iterable[StrEnum]) -> click.Choice:
    """A choice among words of the vocabulary (environments, kinds, flags)."""
    return click.Choice([member.value for member in members])


POOL_OPTIONS: list[Callable[[Any], Any]] = [
    click.option("--config", "config_file", type=click.Path(dir_okay=False, path_type=Path),
                 help=env_help("KEY=VALUE file read at start and again on HUP", "OCRMP_CONFIG")),
    click.option("--pool-name", help=env_help("Name of the pool (pidfile, slot table); "
                                              "default: the host name", "OCRMP_POOL_NAME")),
]

RUN_OPTIONS: list[Callable[[Any], Any]] = [
    click.option("--size", type=click.IntRange(1, config.MAX_POOL_SIZE),
                 help=env_help("Number of workers (default: CPU count)", "OCR_WORKER_POOL_SIZE")),
    click.option("--min-index", type=click.IntRange(0), help=env_help(
        "Workers always in index mode", "OCR_MIN_INDEX_WORKERS")),
    click.option("--min-acte", type=click.IntRange(0), help=env_help(
        "Workers always in acte mode", "OCR_MIN_ACTE_WORKERS")),
    click.option("--engine", type=click.Choice(ENGINES), help=env_help(
        "OCR engine: auto, tesserocr (in-process) or cli (the tesseract binary)",
        "OCRMP_ENGINE")),
    click.option("--runner", hidden=True, help=env_help(
        "Run this instead of the OCR pipeline: module:attr[:argument]", "OCRMP_RUNNER")),
    click.option("--job-timeout", type=DURATION, help=env_help(
        "Kill a worker silent this long on a job (e.g. 10m)", "OCRMP_JOB_TIMEOUT")),
    click.option("--graceful-timeout", type=DURATION, help=env_help(
        "On TERM, time given to running jobs (stop --wait overrides it)",
        "OCRMP_GRACEFUL_TIMEOUT")),
    click.option("--max-memory", type=SIZE, help=env_help(
        "Soft limit per worker: recycle after the job (e.g. 2G)", "OCRMP_MAX_MEMORY")),
    click.option("--hard-memory", type=SIZE, help=env_help(
        "Hard limit per worker: kill now (default 1.5 × soft)", "OCRMP_HARD_MEMORY")),
    click.option("--max-jobs-per-worker", type=click.IntRange(0), help=env_help(
        "Recycle a worker after this many jobs (0: never)", "OCRMP_MAX_JOBS_PER_WORKER")),
    click.option("--max-jobs-jitter", type=click.IntRange(0), help=env_help(
        "Random extra jobs before recycling", "OCRMP_MAX_JOBS_JITTER")),
    click.option("--memory-reserve", type=SHARE, help=env_help(
        "Host memory kept free: no claim or spawn below it (e.g. 20%)", "OCRMP_MEMORY_RESERVE")),
    click.option("--lease", "lease_s", type=DURATION, help=env_help(
        "Lease of a running job, renewed by the master", "OCRMP_LEASE")),
    click.option("--poll-interval", "poll_interval_s", type=DURATION, help=env_help(
        "Backstop poll when no NOTIFY arrives", "OCRMP_POLL_INTERVAL")),
    click.option("--rate-limit", "rate_limits", multiple=True, help=env_help(
        "Per-environment limit, e.g. prod=600/min or dev=100/min:pages", "OCRMP_RATE_LIMIT")),
    click.option("--until-idle", is_flag=True, default=None,
                 help="Exit 0 once no claimable job remains and every worker is idle"),
    click.option("--log-format", type=click.Choice(["human", "json"]),
                 help=env_help("Log line format", "OCRMP_LOG_FORMAT")),
    click.option("--log-file", type=click.Path(dir_okay=False, path_type=Path),
                 help="Write logs here (reopened on SIGUSR1, for logrotate)"),
    click.option("--metrics-port", type=click.IntRange(0, 65535), help=env_help(
        "Serve Prometheus metrics and /healthz on PORT", "OCRMP_METRICS_PORT")),
    click.option("--metrics-host", help=env_help(
        "Address the metrics endpoint binds to (default 127.0.0.1)", "OCRMP_METRICS_HOST")),
]

_RENAMES = {"job_timeout": "job_timeout_s", "graceful_timeout": "graceful_timeout_s"}


def with_options(options: list[Callable[[Any], Any]]) -> Callable[[Any], Any]:
    def decorate(command: Any) -> Any:
        for option in reversed(options):
            command = option(command)
        return command
    return decorate


def settings_from(config_file: Path | None, **flags: Any) -> Settings:
    """Settings from environment, config file and flags, remembered for HUP."""
    config_file = config_file or (Path(os.environ["OCRMP_CONFIG"])
                                  if os.environ.get("OCRMP_CONFIG") else None)
    overrides = {_RENAMES.get(key, key): value for key, value in flags.items()}
    if overrides.get("rate_limits") == ():
        overrides["rate_limits"] = None
    elif overrides.get("rate_limits"):
        overrides["rate_limits"] = tuple(overrides["rate_limits"])
    source = config.Source(config_file, tuple(overrides.items()))
    settings = config.load(source)
    report_unknown_names(config_file)
    return settings


def report_unknown_names(config_file: Path | None) -> None:
    """A warning on stderr for each misspelt-looking variable (see confignames)."""
    from ocrmp.confignames import reports

    values = config.load_config_file(config_file) if config_file else {}
    for line in reports(os.environ, values, str(config_file) if config_file else None):
        click.echo(f"ocrmp: warning: {line}", err=True)


def command_line(command: click.Command, values: Mapping[str, Any]) -> list[str]:
    """The arguments that give command these option values (None and () left out)."""
    args: list[str] = []
    for param in command.params:
        value = values.get(param.name or "")
        if not isinstance(param, click.Option) or value is None or value == ():
            continue
        option = param.opts[0]
        if param.is_flag:
            args += [option] if value else []
            continue
        show = param.type.show if isinstance(param.type, Parsed) else str
        for item in value if param.multiple else (value,):
            args += [option, show(item)]
    return args
