"""Running `ocrmp run` as a real subprocess against a test database, and reading the outcome."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import psutil
import psycopg

from ocrmp.store import JobStore

STARTED: list[Pool] = []  # every pool a test started, killed at its teardown if still alive


class Pool:
    """One `ocrmp run` master, its environment and its log."""

    def __init__(self, dsn: str, tmp: Path, *args: str, env: dict[str, str] | None = None,
                 name: str | None = None) -> None:
        self.dsn = dsn
        self.name = name or f"t{uuid.uuid4().hex[:8]}"
        self.run_dir = tmp / "run"
        self.record = tmp / f"{self.name}.record"
        self.log_path = tmp / f"{self.name}.log"
        self.env = {**os.environ, "OCR_DEV": "true", "DEV_DATABASE_URL": dsn,
                    "OCRMP_RUN_DIR": str(self.run_dir), "OCRMP_POOL_NAME": self.name,
                    "FAKE_RUNNER_RECORD": str(self.record), "OCRMP_POLL_INTERVAL": "1s",
                    "OCRMP_RESCUE_INTERVAL": "2s", "OCRMP_MEMORY_RESERVE": "1%",
                    **(env or {})}
        self.args = list(args)
        self.proc: subprocess.Popen[bytes] | None = None

    def command(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "ocrmp", *args]

    def start(self) -> Pool:
        self.log_file = open(self.log_path, "ab")  # noqa: SIM115 - closed in wait()
        self.proc = subprocess.Popen(self.command("run", *self.args), env=self.env,
                                     stdout=self.log_file, stderr=subprocess.STDOUT)
        STARTED.append(self)
        return self

    def ctl(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        return subprocess.run(self.command(*args), env=self.env, capture_output=True, text=True,
                              timeout=timeout, check=False)

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def signal(self, signum: int) -> None:
        os.kill(self.pid, signum)

    def wait(self, timeout: float = 120) -> int:
        assert self.proc is not None
        try:
            code = self.proc.wait(timeout)
        finally:
            self.log_file.close()
        return code

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def workers(self) -> list[psutil.Process]:
        """The master's forked workers (not multiprocessing's resource tracker)."""
        try:
            children = psutil.Process(self.pid).children()
            return [child for child in children
                    if "resource_tracker" not in " ".join(child.cmdline())]
        except psutil.NoSuchProcess:
            return []

    def executions(self) -> Counter[str]:
        """How many times the fake engine started each job id."""
        if not self.record.exists():
            return Counter()
        return Counter(line.split()[1] for line in self.record.read_text().splitlines())


def enqueue(dsn: str, n: int, kind: str = "acte", path: str = "fake:sleep=0") -> list[str]:
    store = JobStore(dsn)
    try:
        return [store.enqueue(kind, path, f"{kind}-{i:05d}") for i in range(n)]
    finally:
        store.close()


def statuses(dsn: str) -> Counter[int]:
    with psycopg.connect(dsn) as conn:
        rows = conn.execute("SELECT status_id, count(*) FROM extraction_queue GROUP BY 1")
        return Counter({status: n for status, n in rows})


def row(dsn: str, job_id: str) -> dict[str, object]:
    with psycopg.connect(dsn) as conn:
        cur = conn.execute("SELECT status_id, ocr_attempts, ocr_error, ocr_worker_id "
                           "FROM extraction_queue WHERE id = %s", (job_id,))
        status, attempts, error, worker = cur.fetchone()  # type: ignore[misc]
    return {"status_id": status, "ocr_attempts": attempts, "ocr_error": error,
            "ocr_worker_id": worker}


def eventually(check: Callable[[], bool], timeout: float = 60, what: str = "condition") -> None:
    """Wait until check() holds; the bound only keeps a broken build from hanging."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.05)
    raise AssertionError(f"{what} did not happen within {timeout:.0f}s")


def busy_worker_pids(pool: Pool) -> list[int]:
    """Workers currently running a job, read from the slot table."""
    from ocrmp.pool.slots import Phase, SlotTable

    try:
        with SlotTable.attach(pool.name) as table:
            return [snap.pid for snap in table.snapshots() if snap.phase == Phase.BUSY]
    except Exception:
        return []


def signal_process(pid: int, signum: int) -> None:
    """`os.kill` of one process, never of a group: a pid of 0 read from a slot being
    filled would stop or kill the test run itself."""
    if pid <= 0:
        raise AssertionError(f"refusing to signal pid {pid}: not one process")
    os.kill(pid, signum)


def alive(pid: int) -> bool:
    """Running, not a zombie waiting for a parent that will never reap it."""
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def kill_leftover_pools() -> None:
    """A failed test must not leave a master running (its workers die with it)."""
    while STARTED:
        pool = STARTED.pop()
        pool.kill()
        if not pool.log_file.closed:
            pool.log_file.close()
        if (pool.run_dir / f"{pool.name}.pid").exists():
            pool.ctl("stop", "--now", timeout=60)
