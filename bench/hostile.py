"""Hostile PDFs: `ocrmp ocr` against a bare pypdfium2 render of the same file.

    .venv/bin/python bench/hostile.py [--page-timeout 10] [--peer-limit 120]

The files (tests/hostile.py) are built in a temporary directory and removed after. Each
is given to `ocrmp ocr` with OCRMP_PAGE_TIMEOUT set, and to the peer: a child that opens
the file with pypdfium2 and renders its first page at 300 dpi in grayscale, as ocrmp
would without its limits, killed after `--peer-limit` seconds. For both: wall time, exit
code, the last line on stderr, and peak memory of the whole process tree, sampled every
20 ms as the sum of RSS and the sum of PSS (RSS counts pages a forked child shares with
its parent twice; PSS splits them), and the kernel's largest single-process peak.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import command_line, print_table  # noqa: E402
from tests.hostile import HOSTILE  # noqa: E402

MB = 2**20
_PEER = """
import sys
import pypdfium2 as pdfium
pdf = pdfium.PdfDocument(sys.argv[1])
page = pdf[0]
page.render(scale=300 / 72, grayscale=True).close()
print(f"rendered page 1 of {len(pdf)}", file=sys.stderr)
"""


@dataclass
class Run:
    wall_s: float
    code: int | str
    line: str
    rss_mb: float  # peak of the tree's summed RSS
    pss_mb: float  # peak of the tree's summed PSS
    maxrss_mb: float  # the kernel's peak of the largest single process


class TreeSampler(threading.Thread):
    """Peak summed RSS and PSS of a process and its descendants."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.root = psutil.Process(pid)
        self.rss = self.pss = 0
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.wait(0.02):
            rss = pss = 0
            try:
                tree = [self.root, *self.root.children(recursive=True)]
            except psutil.Error:
                continue
            for proc in tree:
                try:
                    full = proc.memory_full_info()
                except psutil.Error:
                    continue
                rss, pss = rss + full.rss, pss + full.pss
            self.rss, self.pss = max(self.rss, rss), max(self.pss, pss)


def measure(command: list[str], env: dict[str, str], limit_s: float) -> Run:
    started = time.monotonic()
    proc = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, start_new_session=True)
    sampler = TreeSampler(proc.pid)
    sampler.start()
    killer = threading.Timer(limit_s, lambda: _kill_group(proc.pid))
    killer.start()
    assert proc.stderr is not None
    stderr = proc.stderr.read().decode(errors="replace")
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.monotonic() - started
    killer.cancel()
    sampler.done.set()
    sampler.join()
    proc.returncode = os.waitstatus_to_exitcode(status)
    lines = [line for line in stderr.splitlines() if line.strip()]
    code: int | str = proc.returncode
    if wall >= limit_s:
        code = f"killed at {limit_s:g} s"
    return Run(wall, code, lines[-1] if lines else "", sampler.rss / MB, sampler.pss / MB,
               usage.ru_maxrss / 1024)


def _kill_group(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGKILL)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--page-timeout", type=float, default=10.0)
    parser.add_argument("--peer-limit", type=float, default=120.0,
                        help="seconds after which the bare render is killed")
    parser.add_argument("--only", action="append", choices=sorted(HOSTILE))
    args = parser.parse_args()
    env = {**os.environ, "OCRMP_PAGE_TIMEOUT": f"{args.page_timeout:g}",
           "OMP_THREAD_LIMIT": "1"}
    ocrmp = [sys.executable, "-m", "ocrmp", "ocr"]
    rows = []
    print(f"# {command_line()}")
    with tempfile.TemporaryDirectory() as folder:
        for name in args.only or HOSTILE:
            path = Path(folder) / name
            path.write_bytes(HOSTILE[name]())
            size_kb = path.stat().st_size / 1024
            ours = measure([*ocrmp, str(path)], env, args.page_timeout + 60)
            peer = measure([sys.executable, "-c", _PEER, str(path)], env, args.peer_limit)
            for who, run in (("ocrmp ocr", ours), ("pypdfium2 render", peer)):
                rows.append([name, f"{size_kb:.0f}", who, f"{run.wall_s:.1f}", str(run.code),
                             f"{run.rss_mb:.0f}", f"{run.pss_mb:.0f}", f"{run.maxrss_mb:.0f}"])
                print(f"{name} {who}: {run.line}", flush=True)
    print()
    print_table(rows, ["file", "KB", "run", "wall s", "exit", "tree RSS MB", "tree PSS MB",
                       "max proc RSS MB"])


if __name__ == "__main__":
    main()
