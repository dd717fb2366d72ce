"""A pidfile locked by a process that is not an ocrmp master, as another program could."""

from __future__ import annotations

import contextlib
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

from ocrmp.pool.pidfile import running_master


@contextlib.contextmanager
def locked_by_sleep(path: Path) -> Iterator[subprocess.Popen[bytes]]:
    """`flock PATH sleep 600` for the duration of the block."""
    path.touch()
    holder = subprocess.Popen(["flock", str(path), "sleep", "600"])
    try:
        # flock takes the lock, then forks its command: wait for both.
        while running_master(path) is None or not children_of(holder.pid):
            time.sleep(0.02)
        yield holder
    finally:
        holder.kill()
        holder.wait()


def children_of(pid: int) -> list[int]:
    return [int(child) for child in
            Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
