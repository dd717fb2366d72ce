"""What every command shares: turning the project's errors into one line and an exit code."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from typing import IO, Any, ParamSpec, TypeVar

import click

from ocrmp.errors import (
    ConfigError,
    DatabaseError,
    DatabaseRefused,
    DatabaseUnavailable,
    JobError,
    OcrmpError,
    SchemaError,
)
from ocrmp.exitcodes import ExitCode
from ocrmp.ocr.errors import EngineUnavailable
from ocrmp.pool.control import NotRunning
from ocrmp.pool.pidfile import AlreadyRunning
from ocrmp.pool.slots import PoolAlreadyRunning

P = ParamSpec("P")
R = TypeVar("R")

_EXIT_FOR: list[tuple[type[OcrmpError], ExitCode]] = [
    (EngineUnavailable, ExitCode.ENGINE),
    (AlreadyRunning, ExitCode.ALREADY_RUNNING),
    (PoolAlreadyRunning, ExitCode.ALREADY_RUNNING),
    (NotRunning, ExitCode.NOT_RUNNING),
    (ConfigError, ExitCode.CONFIG),
    (DatabaseRefused, ExitCode.CONFIG),  # waiting cannot fix a wrong DSN
    (DatabaseUnavailable, ExitCode.DATABASE),
    (SchemaError, ExitCode.DATABASE),
    (DatabaseError, ExitCode.DATABASE),
    (JobError, ExitCode.INPUT),
]


def exit_code_for(error: OcrmpError) -> ExitCode:
    for kind, code in _EXIT_FOR:
        if isinstance(error, kind):
            return code
    return ExitCode.FAILURE


def fail(message: str, code: ExitCode) -> None:
    click.echo(f"ocrmp: error: {message}", err=True)
    sys.exit(int(code))


def guarded(command: Callable[P, R]) -> Callable[P, R]:
    """Report the project's errors as one line and a named exit code, without a traceback."""

    @functools.wraps(command)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return command(*args, **kwargs)
        except OcrmpError as error:
            fail(str(error), exit_code_for(error))
            raise AssertionError("unreachable") from error

    return wrapper


class OneLineUsageError(click.UsageError):
    """Wrong usage said in one line, like every other error, not click's usage block."""

    def show(self, file: IO[Any] | None = None) -> None:
        hint = f" (see `{self.ctx.command_path} --help`)" if self.ctx else ""
        click.echo(f"ocrmp: error: {self.format_message()}{hint}", err=True)


def usage_error(message: str) -> OneLineUsageError:
    """A usage error found after parsing (options that exclude each other)."""
    return OneLineUsageError(message, click.get_current_context(silent=True))


class Command(click.Command):
    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        try:
            return super().parse_args(ctx, args)
        except click.UsageError as error:
            raise OneLineUsageError(error.format_message(), error.ctx or ctx) from None


class Group(click.Group):
    command_class = Command

    def resolve_command(self, ctx: click.Context,
                        args: list[str]) -> tuple[str | None, click.Command | None, list[str]]:
        try:
            return super().resolve_command(ctx, args)
        except click.UsageError as error:
            raise OneLineUsageError(error.format_message(), error.ctx or ctx) from None
