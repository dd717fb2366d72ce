"""The run directory (pidfiles, background logs): private to the pool's user, checked before
anything is opened in it, and nothing in it opened through a symbolic link.

Its default, /tmp/ocrmp-<uid> without XDG_RUNTIME_DIR, sits in a directory every local user
can write: another user could create it first and plant links or pidfiles there.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
from pathlib import Path

from ocrmp.errors import ConfigError


class UnsafeRunDir(ConfigError):
    """The run directory is not private to this user."""


def run_dir_problem(entry: os.stat_result, target: os.stat_result, uid: int) -> str | None:
    """Why a directory (entry: its lstat, target: its stat) cannot be this user's run
    directory, or None when it can."""
    if not stat.S_ISDIR(target.st_mode):
        return "is not a directory"
    for what, owner in (("it", target.st_uid), ("its symbolic link", entry.st_uid)):
        if owner != uid:
            return f"is owned by another user ({what}: uid {owner}; you are uid {uid})"
    if target.st_mode & 0o022:
        return f"is writable by other users (mode {stat.S_IMODE(target.st_mode):04o})"
    return None


def check_run_dir(path: Path) -> bool:
    """UnsafeRunDir unless path is this user's private directory; False when it is absent."""
    try:
        entry, target = os.lstat(path), os.stat(path)
    except FileNotFoundError:
        return False
    problem = run_dir_problem(entry, target, os.geteuid())
    if problem:
        raise UnsafeRunDir(f"run directory {path} {problem}: remove it, or set OCRMP_RUN_DIR "
                           "to a directory only you can write")
    return True


def private_run_dir(path: Path) -> Path:
    """The run directory, created 0700 when absent, checked when present."""
    if not check_run_dir(path):
        path.parent.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(FileExistsError):  # made meanwhile: checked below
            path.mkdir(mode=0o700)
        check_run_dir(path)
    return path


def open_no_follow(path: Path, flags: int, mode: int = 0o600) -> int:
    """os.open that refuses a symbolic link as the last component (UnsafeRunDir)."""
    try:
        return os.open(path, flags | os.O_NOFOLLOW | os.O_CLOEXEC, mode)
    except OSError as error:
        if error.errno == errno.ELOOP:
            raise UnsafeRunDir(f"{path} is a symbolic link: refusing to open it through the "
                               "link; remove it") from None
        raise
