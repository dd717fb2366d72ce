"""The demo's live view of its pool: jobs finished, pages read, and each worker's job,
redrawn in place on a terminal or printed as a line every few seconds elsewhere."""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, TextIO

from ocrmp.demo.samples import Sample
from ocrmp.demo.store import DemoStore
from ocrmp.vocabulary import Status

TICK_S = 0.5
PLAIN_EVERY_S = 2.0


@dataclass(frozen=True)
class Progress:
    total: int
    done: int
    errors: int
    pages: int
    elapsed_s: float
    workers: list[dict[str, Any]]

    @property
    def pages_per_minute(self) -> float:
        return self.pages * 60 / self.elapsed_s if self.elapsed_s > 0 else 0.0

    def headline(self) -> str:
        return (f"{self.done + self.errors}/{self.total} jobs finished ({self.done} done, "
                f"{self.errors} errors) · {self.pages} pages · "
                f"{self.pages_per_minute:.1f} pages/min · {self.elapsed_s:.0f}s")


def live_workers(pool_name: str) -> list[dict[str, Any]]:
    from ocrmp.pool.slots import SlotTableError
    from ocrmp.pool.view import read_slots

    try:
        return read_slots(pool_name)
    except SlotTableError:
        # Caught while the master creates or removes its table: the next tick will see it.
        return []


def measure(store: DemoStore, samples: Mapping[str, Sample], pool_name: str,
            started: float) -> Progress:
    rows = store.statuses(samples)
    workers = live_workers(pool_name)
    # Pages of finished jobs, plus the pages already read of the jobs in hand.
    pages = sum(row["pages"] for row in rows if row["status_id"] == Status.DONE)
    pages += sum(worker["page"] or 0 for worker in workers if worker["phase"] == "busy")
    return Progress(total=len(samples),
                    done=sum(row["status_id"] == Status.DONE for row in rows),
                    errors=sum(row["status_id"] == Status.ERROR for row in rows),
                    pages=pages, elapsed_s=time.monotonic() - started, workers=workers)


def worker_line(worker: dict[str, Any], pages_of: Mapping[str, int]) -> str:
    job = "-"
    if worker["phase"] == "busy" and worker["document_number"]:
        number = worker["document_number"]
        total = pages_of.get(number)
        # `page` counts pages finished: the one being read is the next.
        reading = worker["page"] + 1 if total is None else min(worker["page"] + 1, total)
        job = f"{number}  page {reading}" + (f"/{total}" if total else "")
    return f"  {worker['name']:<14} {worker['phase']:<9} {worker['mode']:<6} {job}"


def progress_lines(progress: Progress, pages_of: Mapping[str, int]) -> list[str]:
    return [progress.headline(), *(worker_line(w, pages_of) for w in progress.workers)]


def plain_line(progress: Progress, pages_of: Mapping[str, int]) -> str:
    workers = "; ".join(" ".join(worker_line(w, pages_of).split()) for w in progress.workers)
    return f"{progress.headline()}" + (f" | {workers}" if workers else "")


class LiveDisplay:
    """Redraws in place on a terminal; elsewhere (a pipe, CI) prints a line every 2 s."""

    def __init__(self, out: TextIO, pages_of: Mapping[str, int], tty: bool | None = None) -> None:
        self.out = out
        self.pages_of = pages_of
        self.tty = out.isatty() if tty is None else tty
        self.drawn = 0
        self.last_plain = float("-inf")

    def show(self, progress: Progress, *, final: bool = False) -> None:
        if self.tty:
            self._redraw(progress_lines(progress, self.pages_of))
        elif final or time.monotonic() - self.last_plain >= PLAIN_EVERY_S:
            self.out.write(plain_line(progress, self.pages_of) + "\n")
            self.out.flush()
            self.last_plain = time.monotonic()

    def _redraw(self, lines: list[str]) -> None:
        width = shutil.get_terminal_size().columns - 1
        # Back to the first line drawn last time (ESC[nF), rewrite each line (ESC[2K clears
        # it), then clear whatever a longer previous frame left below (ESC[J).
        up = f"\x1b[{self.drawn}F" if self.drawn else "\r"
        body = "".join(f"\x1b[2K{line[:width]}\n" for line in lines)
        self.out.write(f"{up}{body}\x1b[J")
        self.out.flush()
        self.drawn = len(lines)


def watch(pool: subprocess.Popen[bytes], store: DemoStore, samples: Mapping[str, Sample],
          pool_name: str, display: LiveDisplay) -> tuple[int, float]:
    """Show progress until the pool exits; return its exit code and how long it ran."""
    started = time.monotonic()
    while True:
        code = pool.poll()
        progress = measure(store, samples, pool_name, started)
        display.show(progress, final=code is not None)
        if code is not None:
            return code, progress.elapsed_s
        time.sleep(TICK_S)
