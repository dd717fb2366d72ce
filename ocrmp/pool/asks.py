"""What an operator's command asks of a running master beyond its signal: how long to drain
(`stop --wait D`, `restart --wait D`, read on TERM) and which size to take (`scale N`,
`scale +N`, `scale -N`, read on TTIN).

The command writes its request into the pool's private run directory, then signals; the
master reads it (and removes it) when the signal arrives. Without one, the signal means
what it always did: the graceful timeout, one worker more. A request older than
REQUEST_TTL_S was left by a command that never signalled: ignored.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import time
from pathlib import Path
from typing import Any

from ocrmp.errors import ConfigError
from ocrmp.rundir import open_no_follow, private_run_dir

REQUEST_TTL_S = 60.0
DRAIN = "drain"  # {"drain_s": seconds}
SCALE = "scale"  # {"size": N} to set, {"by": ±N} to change


def request_path(run_dir: Path, pool_name: str, what: str) -> Path:
    return run_dir / f"{pool_name}.{what}"


def request(run_dir: Path, pool_name: str, what: str, **values: float) -> None:
    """Leave a request for the master's next signal (one of a kind: the last one wins)."""
    private_run_dir(run_dir)
    path = request_path(run_dir, pool_name, what)
    with contextlib.suppress(FileNotFoundError):
        path.unlink()
    fd = open_no_follow(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL)
    with open(fd, "w") as out:
        json.dump({**values, "at": time.time()}, out)


def take(run_dir: Path, pool_name: str, what: str,
         now: float | None = None) -> dict[str, float] | None:
    """A request, read once; None when there is none (or it is stale or unreadable)."""
    path = request_path(run_dir, pool_name, what)
    try:
        fd = open_no_follow(path, os.O_RDONLY)
    except (OSError, ConfigError):  # none, or not a file of ours: not asked
        return None
    try:
        with open(fd) as handle:
            data: Any = json.load(handle)
        values = {key: float(value) for key, value in data.items()}
    except (ValueError, TypeError, AttributeError):
        return None
    finally:
        with contextlib.suppress(OSError):
            path.unlink()
    if not all(math.isfinite(value) for value in values.values()):
        return None
    age = (now if now is not None else time.time()) - values.pop("at", -math.inf)
    return values if 0 <= age <= REQUEST_TTL_S else None


def take_drain(run_dir: Path, pool_name: str, now: float | None = None) -> float | None:
    """The drain an operator asked for, in seconds; None: the graceful timeout applies."""
    asked = take(run_dir, pool_name, DRAIN, now)
    drain_s = asked.get("drain_s") if asked else None
    return drain_s if drain_s is not None and drain_s >= 0 else None


def take_size(run_dir: Path, pool_name: str, current: int,
              now: float | None = None) -> int | None:
    """The size an operator asked for, from the current one; None when none was asked."""
    asked = take(run_dir, pool_name, SCALE, now)
    if not asked:
        return None
    if "size" in asked:
        return int(asked["size"])
    return current + int(asked["by"]) if "by" in asked else None
