"""How long a stopping pool lets its running jobs finish, when the operator says so.

`ocrmp stop --wait D` and `ocrmp restart --wait D` write D into the pool's private run
directory before they send TERM; the master reads it (and removes it) when TERM arrives.
Without one, the pool's graceful timeout applies. A request older than REQUEST_TTL_S was
left by a command that never signalled: ignored.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import time
from pathlib import Path

from ocrmp.errors import ConfigError
from ocrmp.rundir import open_no_follow, private_run_dir

REQUEST_TTL_S = 60.0


def request_path(run_dir: Path, pool_name: str) -> Path:
    return run_dir / f"{pool_name}.drain"


def request(run_dir: Path, pool_name: str, drain_s: float) -> None:
    """Ask the pool's next TERM to drain for drain_s seconds."""
    private_run_dir(run_dir)
    path = request_path(run_dir, pool_name)
    with contextlib.suppress(FileNotFoundError):
        path.unlink()
    fd = open_no_follow(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL)
    with open(fd, "w") as out:
        json.dump({"drain_s": drain_s, "at": time.time()}, out)


def take(run_dir: Path, pool_name: str, now: float | None = None) -> float | None:
    """The drain an operator asked for, read once; None when none was (or it is stale or
    unreadable: the graceful timeout then applies)."""
    path = request_path(run_dir, pool_name)
    try:
        fd = open_no_follow(path, os.O_RDONLY)
    except (OSError, ConfigError):  # none, or not a file of ours: not asked
        return None
    try:
        with open(fd) as handle:
            data = json.load(handle)
        drain_s, at = float(data["drain_s"]), float(data["at"])
    except (ValueError, KeyError, TypeError):
        return None
    finally:
        with contextlib.suppress(OSError):
            path.unlink()
    fresh = 0 <= (now if now is not None else time.time()) - at <= REQUEST_TTL_S
    return drain_s if fresh and math.isfinite(drain_s) and drain_s >= 0 else None
