"""What every command shares: turning the project's errors into one line and an exit code."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from typing import ParamSpec, TypeVar

import click

from ocrmp.errors import (
    ConfigError,
    DatabaseError,
    DatabaseUnavailable,
    JobError,
    OcrmpError,
    SchemaError,
)
from ocrmp.exitcodes import ExitCode
from ocrmp.ocr.errors import EngineUnavailable
from ocrmp.pool.pidfile import AlreadyRunning
from ocrmp.pool.slots import PoolAlreadyRunning

P = ParamSpec("P")
R = TypeVar("R")

_EXIT_FOR: list[tuple[type[OcrmpError], ExitCode]] = [
    (EngineUnavailable, ExitCode.ENGINE),
    (AlreadyRunning, ExitCode.ALREADY_RUNNING),
    (PoolAlreadyRunning, ExitCode.ALREADY_RUNNING),
    (ConfigError, ExitCode.CONFIG),
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
