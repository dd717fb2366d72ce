"""`ocrmp ensure` and `ocrmp restart` start `ocrmp run` with the options they parsed,
rebuilt from their values: the new pool reads exactly what the command was given."""

from __future__ import annotations

from typing import Any

import click

from ocrmp.cli.options import command_line
from ocrmp.cli.pool import ensure, restart, run

EVERY_RUN_OPTION = [
    "--config", "pool.env", "--pool-name", "scans", "--size", "2", "--min-index", "1",
    "--min-acte", "0", "--engine", "cli", "--runner", "tests.doubles:FakeRunner:ok",
    "--job-timeout", "10m", "--graceful-timeout", "250ms", "--max-memory", "1.5G",
    "--hard-memory", "3G", "--max-jobs-per-worker", "5", "--max-jobs-jitter", "2",
    "--memory-reserve", "20%", "--lease", "30s", "--poll-interval", "0.1",
    "--rate-limit", "prod=600/min", "--rate-limit", "dev=100/min:pages", "--until-idle",
    "--log-format", "json", "--log-file", "pool.log", "--metrics-port", "9100",
    "--metrics-host", "0.0.0.0",
]


def parsed(command: click.Command, args: list[str]) -> dict[str, Any]:
    return command.make_context(command.name, list(args)).params


def test_the_test_line_gives_every_option_of_run() -> None:
    given = {name for name, value in parsed(run, EVERY_RUN_OPTION).items()
             if value is not None}
    assert given == {param.name for param in run.params if isinstance(param, click.Option)}


def test_ensure_gives_run_the_values_it_parsed() -> None:
    values = parsed(ensure, EVERY_RUN_OPTION)
    assert parsed(run, command_line(run, values)) == values


def test_restart_keeps_its_wait_to_itself() -> None:
    values = parsed(restart, [*EVERY_RUN_OPTION, "--wait", "5s"])
    rebuilt = command_line(run, values)
    assert "--wait" not in rebuilt
    assert parsed(run, rebuilt) == {k: v for k, v in values.items() if k != "wait_s"}


def test_options_not_given_are_left_to_runs_own_environment_and_config() -> None:
    assert command_line(run, parsed(ensure, [])) == []
