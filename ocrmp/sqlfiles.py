"""SQL kept in .sql files inside the package, loaded once and called by name."""

from __future__ import annotations

import functools
import re
from importlib import resources

_HEADER = re.compile(r"^-- name: (\w+)\s*$", re.MULTILINE)


def parse_named_queries(text: str) -> dict[str, str]:
    """Split a file of `-- name: NAME` sections into {NAME: SQL}."""
    parts = _HEADER.split(text)
    return {name: body.strip() for name, body in zip(parts[1::2], parts[2::2], strict=True)}


@functools.cache
def queries() -> dict[str, str]:
    return parse_named_queries(resources.files("ocrmp.sql").joinpath("queries.sql").read_text())


def migrations() -> list[tuple[str, str]]:
    """Every migration file as (name, SQL), in the order they apply."""
    folder = resources.files("ocrmp.sql").joinpath("migrations")
    names = sorted(entry.name for entry in folder.iterdir() if entry.name.endswith(".sql"))
    return [(name.removesuffix(".sql"), folder.joinpath(name).read_text()) for name in names]


@functools.cache
def web_queries() -> dict[str, str]:
    """The web console's own queries (`ocrmp web`)."""
    return parse_named_queries(resources.files("ocrmp.sql").joinpath("web.sql").read_text())
