"""Where a pool's log goes, as `ocrmp logs` finds it: the file its running master writes
(`--log-file`, or the run directory's log of `ensure` and `restart`), systemd's journal
when systemd runs it, or the file it wrote last."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from pathlib import Path

from ocrmp.config import Settings
from ocrmp.errors import OcrmpError
from ocrmp.pool import control


class NoLog(OcrmpError):
    """No log of this pool was found."""


@dataclass(frozen=True)
class LogSource:
    file: Path | None = None  # a log file
    unit: str | None = None  # a systemd unit whose journal holds the log


def log_file_of(argv: list[str]) -> Path | None:
    """The --log-file of a master's command line, if it has one."""
    for n, arg in enumerate(argv):
        if arg == "--log-file" and n + 1 < len(argv):
            return Path(argv[n + 1])
        if arg.startswith("--log-file="):
            return Path(arg.removeprefix("--log-file="))
    return None


def systemd_unit(cgroup: str, environ: bytes) -> str | None:
    """The service a process runs as under systemd (its cgroup names it, and systemd gave it
    an INVOCATION_ID), else None: a pool started from cron or a shell has a file or a
    terminal instead."""
    if b"INVOCATION_ID=" not in environ:
        return None
    for line in cgroup.splitlines():
        leaf = line.rsplit("/", 1)[-1]
        if leaf.endswith(".service"):
            return leaf
    return None


def find(settings: Settings) -> LogSource:
    """This pool's log (see the module's docstring); NoLog when there is none to show."""
    default = settings.run_dir / f"{settings.pool_name}.log"
    pid = control.master_of(settings)
    if pid is not None:
        proc = Path(f"/proc/{pid}")
        with contextlib.suppress(OSError):
            argv = (proc / "cmdline").read_bytes().decode(errors="replace").split("\0")
            named = log_file_of(argv)
            if named is not None:
                return LogSource(file=named if named.is_absolute() else
                                 Path((proc / "cwd").resolve()) / named)
            unit = systemd_unit((proc / "cgroup").read_text(), (proc / "environ").read_bytes())
            if unit is not None:
                return LogSource(unit=unit)
        raise NoLog(f"pool {settings.pool_name!r} (master pid {pid}) logs to the terminal "
                    "it was started from, not to a file")
    for candidate in (settings.log_file, default):
        if candidate is not None and candidate.is_file():
            return LogSource(file=candidate)
    raise NoLog(f"no log of pool {settings.pool_name!r}: it is not running, and neither "
                f"{default} nor a --log-file exists (under systemd: journalctl -u ocrmp)")
