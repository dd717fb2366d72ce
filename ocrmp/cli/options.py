"""Click parameter types that reuse the configuration's parsers, so a flag and its
environment variable accept the same values and fail with the same message."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from enum import StrEnum
from typing import Any

import click

from ocrmp import config


class Parsed(click.ParamType):
    def __init__(self, name: str, parse: Callable[[str], Any]) -> None:
        self.name = name
        self.parse = parse

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
