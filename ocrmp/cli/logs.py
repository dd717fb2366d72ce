"""`ocrmp logs`: the pool's log wherever it goes (like `pm2 logs`)."""

from __future__ import annotations

import os
import sys
import time
from collections import deque
from pathlib import Path
from typing import BinaryIO

import click

from ocrmp.cli import main
from ocrmp.cli.common import Command, guarded
from ocrmp.cli.options import POOL_OPTIONS, settings_from, with_options
from ocrmp.pool.logsource import LogSource, find
from ocrmp.rundir import open_no_follow

FOLLOW_POLL_S = 0.5


@main.command(cls=Command)
@with_options(POOL_OPTIONS)
@click.option("-n", "--lines", type=click.IntRange(0), default=50,
              help="Show this many of the last lines")
@click.option("-f", "--follow", is_flag=True, help="Keep printing lines as they come")
@guarded
def logs(config_file: Path | None, pool_name: str | None, lines: int, follow: bool) -> None:
    """Show the pool's log: the file of a pool started by `ensure`, `restart` or with
    --log-file, or systemd's journal when systemd runs it (like `pm2 logs`).

    \b
    Examples:
      ocrmp logs -n 100
      ocrmp logs -f
    """
    source = find(settings_from(config_file, pool_name=pool_name))
    if source.unit is not None:
        _journal(source, lines, follow)
        return
    assert source.file is not None
    click.echo(f"==> {source.file} <==", err=True)
    fd = open_no_follow(source.file, os.O_RDONLY)
    with open(fd, "rb") as log:
        sys.stdout.buffer.write(b"".join(deque(log, maxlen=lines)) if lines else b"")
        sys.stdout.flush()
        if follow:
            _follow(log, source.file)


def _journal(source: LogSource, lines: int, follow: bool) -> None:
    command = ["journalctl", "-u", str(source.unit), "-n", str(lines), "--no-pager"]
    click.echo(f"==> journalctl -u {source.unit} <==", err=True)
    os.execvp(command[0], [*command, *(["-f"] if follow else [])])


def _follow(log: BinaryIO, path: Path) -> None:
    """Print what is appended; after logrotate moved the file, read the new one."""
    current = log
    while True:
        chunk = current.read()
        if chunk:
            sys.stdout.buffer.write(chunk)
            sys.stdout.flush()
            continue
        time.sleep(FOLLOW_POLL_S)
        try:
            moved = os.stat(path).st_ino != os.fstat(current.fileno()).st_ino
        except FileNotFoundError:
            continue
        if moved:
            if current is not log:
                current.close()
            current = open(open_no_follow(path, os.O_RDONLY), "rb")  # noqa: SIM115
