"""A child process dies with its parent (Linux `PR_SET_PDEATHSIG`).

A worker dies with its master; tesseract (or any program a worker runs) dies with its
worker. A killed master's workers are killed by the kernel and cannot clean up after
themselves, so a grandchild that did not ask for this would outlive them, orphaned.
"""

from __future__ import annotations

import ctypes
import functools
import signal
from collections.abc import Callable
from typing import Any

_PR_SET_PDEATHSIG = 1


@functools.cache
def _prctl() -> Callable[..., Any] | None:
    try:
        return ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):  # no libc, or one without prctl: not Linux
        return None


def die_with_parent() -> None:
    """In the child: be killed (SIGKILL) when the parent dies; elsewhere than Linux, nothing.
    Safe as a subprocess `preexec_fn` once `prepare()` ran in the parent."""
    prctl = _prctl()
    if prctl is not None:
        prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)


def prepare() -> None:
    """Find prctl now, in the parent, so that a preexec_fn never loads libc after a fork."""
    _prctl()
