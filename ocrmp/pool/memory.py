"""Process-tree memory of workers and the host's available memory (psutil)."""

from __future__ import annotations

from dataclasses import dataclass

import psutil


@dataclass(frozen=True)
class TreeMemory:
    rss: int
    uss: int  # 0 where the kernel does not give it


def tree_memory(pid: int) -> TreeMemory | None:
    """RSS and USS of a process and all its descendants (tesseract children count)."""
    try:
        root = psutil.Process(pid)
        processes = [root, *root.children(recursive=True)]
    except (psutil.Error, OSError):  # OSError: out of descriptors, say; the next sample
        return None
    rss = uss = 0
    for proc in processes:
        try:
            full = proc.memory_full_info()
            rss += full.rss
            uss += getattr(full, "uss", 0)
        except psutil.AccessDenied:
            rss += proc.memory_info().rss
        except (psutil.Error, OSError):
            continue
    return TreeMemory(rss=rss, uss=uss)


@dataclass(frozen=True)
class HostMemory:
    available: int
    total: int

    @property
    def share_available(self) -> float:
        return self.available / self.total if self.total else 1.0


def host_memory() -> HostMemory | None:
    """The host's memory now; None when it cannot be read (no descriptor left, say)."""
    try:
        vm = psutil.virtual_memory()
    except OSError:
        return None
    return HostMemory(available=vm.available, total=vm.total)
