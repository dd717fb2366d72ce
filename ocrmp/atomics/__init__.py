"""Sequentially consistent atomics on signed 64-bit words in shared buffers.

`load`, `store`, `cas` and `fetch_add` come from the C extension `ocrmp._atomics` when it
is built, from `ocrmp.atomics._pure` otherwise. OCRMP_ATOMICS chooses: `pure` (or
OCRMP_PUREPYTHON=1) forces the fallback, `native` requires the extension (a ConfigError
at import when it is not built, rather than a silent fallback), `auto` or unset picks. `buf` is any
buffer (SharedMemory.buf, mmap, bytearray); offsets are in bytes, 8-aligned and in bounds,
else ValueError / IndexError. Every process touching one segment must use the same
implementation.
"""

from __future__ import annotations

import importlib
import os
from types import ModuleType
from typing import Any, Protocol, cast

from ocrmp.errors import ConfigError

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
    wanted = os.environ.get("OCRMP_ATOMICS", "").strip().lower() or "auto"
    if os.environ.get("OCRMP_PUREPYTHON", "") not in ("", "0"):
        wanted = "pure"
    if wanted not in ("auto", *_MODULES):
        raise ConfigError(f"OCRMP_ATOMICS={wanted!r} is invalid: use auto, native or pure")
    if wanted == "native" and "native" not in available():
        raise ConfigError("OCRMP_ATOMICS=native but the C extension ocrmp._atomics is not "
                          "built: install with a C compiler (make .venv/.installed)")
    if wanted == "auto":
        return "native" if "native" in available() else "pure"
    return wanted


class _Refused:
    """Stands in when the chosen implementation cannot be had: the first use says why, as
    one line from the command that needed it, not a traceback at import."""

    def __init__(self, reason: ConfigError) -> None:
        self.reason = reason

    def _refuse(self, *args: Any) -> Any:
        raise self.reason

    load = store = cas = fetch_add = _refuse


try:
    IMPLEMENTATION: str = _choose()
    _ops: AtomicOps = implementation(IMPLEMENTATION)
except ConfigError as refusal:
    IMPLEMENTATION, _ops = "none", _Refused(refusal)
load = _ops.load
store = _ops.store
cas = _ops.cas
fetch_add = _ops.fetch_add
