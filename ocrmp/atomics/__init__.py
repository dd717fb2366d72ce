"""Sequentially consistent atomics on signed 64-bit words in shared buffers.

`load`, `store`, `cas` and `fetch_add` come from the C extension `ocrmp._atomics` when it
is built, from `ocrmp.atomics._pure` otherwise or when OCRMP_PUREPYTHON=1. `buf` is any
buffer (SharedMemory.buf, mmap, bytearray); offsets are in bytes, 8-aligned and in bounds,
else ValueError / IndexError. Every process touching one segment must use the same
implementation.
"""

from __future__ import annotations

import importlib
import os
from types import ModuleType
from typing import Any, Protocol, cast

__all__ = [
    "IMPLEMENTATION",
    "AtomicOps",
    "available",
    "cas",
    "fetch_add",
    "implementation",
    "load",
    "store",
]

_MODULES = {"native": "ocrmp._atomics", "pure": "ocrmp.atomics._pure"}


class AtomicOps(Protocol):
    """What both implementations provide; `implementation()` returns one."""

    def load(self, buf: Any, offset: int, /) -> int: ...
    def store(self, buf: Any, offset: int, value: int, /) -> None: ...
    def cas(self, buf: Any, offset: int, expected: int, new: int, /) -> bool: ...
    def fetch_add(self, buf: Any, offset: int, delta: int, /) -> int: ...


def implementation(name: str) -> AtomicOps:
    """The implementation called name ("native" or "pure"); ImportError if not built."""
    if name not in _MODULES:
        raise ValueError(f"unknown atomics implementation {name!r}; use 'native' or 'pure'")
    module: ModuleType = importlib.import_module(_MODULES[name])
    return cast(AtomicOps, module)


def available() -> list[str]:
    """The implementations usable in this process, native first."""
    names = []
    for name in _MODULES:
        try:
            implementation(name)
        except ImportError:
            continue
        names.append(name)
    return names


def _choose() -> str:
    if os.environ.get("OCRMP_PUREPYTHON", "") not in ("", "0"):
        return "pure"
    return "native" if "native" in available() else "pure"


IMPLEMENTATION: str = _choose()
_ops = implementation(IMPLEMENTATION)
load = _ops.load
store = _ops.store
cas = _ops.cas
fetch_add = _ops.fetch_add
