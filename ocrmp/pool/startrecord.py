"""What a pool was started with, kept while it runs so `restart` and `ensure` start it again
the same way, whatever the shell they are run from.

`ocrmp run` writes it once it holds the pool's pidfile: its options, its working directory,
and the variables of its environment that configure it (OCR_*, OCRMP_*, *_DATABASE_URL,
REDIS_URL), secrets included. It lives only in the private run directory, mode 0600, and
is written whole or not at all (a new file renamed over the old one); nothing prints its
values, only the variables' names.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ocrmp.config import parse_duration
from ocrmp.errors import ConfigError
from ocrmp.rundir import open_no_follow, private_run_dir

PREFIXES = ("OCR_", "OCRMP_")
SUFFIXES = ("_DATABASE_URL",)
NAMES = ("REDIS_URL",)


@dataclass(frozen=True)
class StartRecord:
    args: list[str]  # `ocrmp run`'s options
    cwd: str
    env: dict[str, str]  # the configuring variables, values included

    def to_json(self) -> dict[str, Any]:
        return {"args": self.args, "cwd": self.cwd, "env": self.env}


def configuring(environ: Mapping[str, str]) -> dict[str, str]:
    """The variables of an environment that configure a pool."""
    return {name: value for name, value in environ.items()
            if name.startswith(PREFIXES) or name.endswith(SUFFIXES) or name in NAMES}


def record_path(run_dir: Path, pool_name: str) -> Path:
    return run_dir / f"{pool_name}.started"


def save(run_dir: Path, pool_name: str, record: StartRecord) -> None:
    private_run_dir(run_dir)
    path = record_path(run_dir, pool_name)
    fresh = path.with_name(f".{path.name}.{os.getpid()}")
    with contextlib.suppress(FileNotFoundError):
        fresh.unlink()
    fd = open_no_follow(fresh, os.O_WRONLY | os.O_CREAT | os.O_EXCL)
    with open(fd, "w") as out:
        json.dump(record.to_json(), out)
    os.replace(fresh, path)


def load(run_dir: Path, pool_name: str) -> StartRecord | None:
    """The record of the pool's last start; None without one (or one that cannot be read)."""
    try:
        fd = open_no_follow(record_path(run_dir, pool_name), os.O_RDONLY)
    except (OSError, ConfigError):
        return None
    try:
        with open(fd) as handle:
            data = json.load(handle)
        return StartRecord(args=[str(arg) for arg in data["args"]], cwd=str(data["cwd"]),
                           env={str(k): str(v) for k, v in data["env"].items()})
    except (ValueError, KeyError, TypeError, AttributeError):
        return None


def start_environment(record: StartRecord, caller: Mapping[str, str]) -> dict[str, str]:
    """The environment to start the pool in again: the caller's, with every configuring
    variable replaced by the pool's own (one the pool did not have is dropped)."""
    return {**{name: value for name, value in caller.items()
               if name not in configuring(caller)}, **record.env}


def describe(record: StartRecord) -> str:
    """What a restart uses, for people: the options, and the variables by name only."""
    names = ", ".join(sorted(record.env)) or "none"
    return f"ocrmp run {' '.join(record.args)} (in {record.cwd}; environment: {names})"


def graceful_timeout(record: StartRecord | None, default: float) -> float:
    """The graceful timeout the pool was started with, as far as its options and variables
    say (a --config file is not read again here); `default` otherwise."""
    if record is None:
        return default
    with contextlib.suppress(ConfigError, ValueError):
        for n, arg in enumerate(record.args[:-1]):
            if arg == "--graceful-timeout":
                return parse_duration(record.args[n + 1])
        if "OCRMP_GRACEFUL_TIMEOUT" in record.env:
            return parse_duration(record.env["OCRMP_GRACEFUL_TIMEOUT"])
    return default
