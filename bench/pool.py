"""Pool benchmark: no-op throughput, pick-up latency and release latency after kill -9,
beside the raw `SKIP LOCKED` loop and pgqueuer, all in one run.

    .venv/bin/python bench/pool.py [--dsn postgresql://...] [--quick] [--profile]
                                   [--baseline DIR]

Without --dsn, a private PostgreSQL is started in a temporary directory (fsync=off). Each
measurement gets a fresh database. ocrmp runs as the real CLI (`ocrmp run --runner` with the
tests' fake engine, `tests.doubles:FakeRunner`, whose jobs here do nothing)
in a subprocess, logging JSON to a file. Throughput is N / (first claim → last
completion), both read from the database (`ocr_started_at`, `ocr_completed_at`); latencies
are differences of database timestamps, or of this process's monotonic clock for kill -9.
Results go to bench/out/pool.json; --profile adds a py-spy profile of the master.
--baseline DIR runs `--size 2` a second time, right after this tree's, with the ocrmp package
of another source tree (say `git archive main | tar -x -C DIR`, and the built
`ocrmp/_atomics*.so` copied in; a tree that has `ocrmp run --runner`), so that a change is
measured against its predecessor in the same run; --rounds K then alternates the two trees
K more times (who goes first alternates too) and reports each tree's median.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import multiprocessing
import os
import random
import shutil
import signal
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import (  # noqa: E402
    OUT_DIR,
    Server,
    command_line,
    percentile,
    postgres,
    print_table,
    summary_ms,
    write_json,
)
from ocrmp.config import Settings  # noqa: E402
from ocrmp.sqlfiles import queries  # noqa: E402
from ocrmp.vocabulary import MODES  # noqa: E402

TARGET_JOBS_S = 2000.0
TARGET_PICKUP_P50_MS = 10.0
KINDS = MODES
FORK = multiprocessing.get_context("fork")
LOG_DIR = OUT_DIR / "pool-logs"  # the pools' JSON logs, kept for a post-mortem

NOOP = "tests.doubles:FakeRunner"  # a job of `fake:sleep=0` does nothing


# -- the queue ------------------------------------------------------------------------


def enqueue_bulk(dsn: str, n: int, path: str = "fake:sleep=0") -> None:
    """N ready jobs in one statement, kinds alternating (each worker mode has its share).

    Each row gets its own created_at, one microsecond apart, as rows inserted one by one
    would: with a single now() for all, the claim's ORDER BY created_at, id would sort
    every tied ready row on each claim, a cost the benchmark would then measure instead.
    """
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO extraction_queue (document_number, document_source, status_id,"
            " supabase_path, created_at)"
            " SELECT 'bench-' || i, (ARRAY['index', 'acte'])[1 + i %% 2], 3, %s,"
            "        now() - interval '1 hour' + i * interval '1 microsecond'"
            " FROM generate_series(1, %s) AS i", (path, n))


def span(dsn: str) -> dict[str, Any]:
    """How many jobs were done, and the seconds from the first claim to the last completion."""
    with psycopg.connect(dsn) as conn:
        row = conn.execute(
            "SELECT count(*) FILTER (WHERE status_id = 5),"
            " extract(epoch FROM max(ocr_completed_at) - min(ocr_started_at)),"
            " count(*) FILTER (WHERE ocr_attempts > 1)"
            " FROM extraction_queue").fetchone()
    assert row is not None
    done, seconds, retried = int(row[0]), float(row[1] or math.nan), int(row[2])
    return {"done": done, "seconds": seconds, "jobs_s": done / seconds if seconds else math.nan,
            "retried": retried}


# -- ocrmp as a subprocess ------------------------------------------------------------


class PoolProcess:
    """`ocrmp run` against one database, its log in a file, in a clean environment."""

    def __init__(self, dsn: str, workdir: Path, size: int, *extra: str,
                 source: Path | None = None) -> None:
        self.name = f"bench{uuid.uuid4().hex[:8]}"
        LOG_DIR.mkdir(parents=True, exist_ok=True)
        self.log_path = LOG_DIR / f"{self.name}.log"
        env = {key: value for key, value in os.environ.items()
               if not key.startswith(("OCR_", "OCRMP_")) and not key.endswith("DATABASE_URL")}
        self.env = {**env, "OCR_DEV": "true", "DEV_DATABASE_URL": dsn, "PYTHONPATH": str(ROOT),
                    "OCRMP_RUN_DIR": str(workdir / "run"), "OCRMP_LOG_FORMAT": "json"}
        python = [sys.executable]
        if source is not None:
            # Another tree's ocrmp (and its tests' fake runner): without site (-S), the
            # editable install of this one is not found first, nor (-P) this tree in the
            # working directory, which `-m` would put first on the path; the dependencies
            # come from this environment's site-packages.
            python += ["-S", "-P"]
            self.env["PYTHONPATH"] = os.pathsep.join([str(source),
                                                      sysconfig.get_paths()["purelib"]])
        self.args = [*python, "-m", "ocrmp", "run", "--size", str(size),
                     "--runner", NOOP, "--pool-name", self.name,
                     "--log-file", str(self.log_path), *extra]
        self.proc: subprocess.Popen[bytes] | None = None
        self.started = 0.0

    def start(self) -> PoolProcess:
        self.started = time.monotonic()
        self.proc = subprocess.Popen(self.args, env=self.env, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        return self

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def wait(self, timeout: float) -> tuple[int | None, float]:
        """Exit code (None if it had to be killed) and wall seconds since start."""
        assert self.proc is not None
        try:
            code: int | None = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.stop()
            code = None
        return code, time.monotonic() - self.started

    def stop(self) -> None:
        """INT (release now, exit), then KILL if it lingers."""
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)

    def stderr(self) -> str:
        if self.proc is None or self.proc.stderr is None:
            return ""
        return self.proc.stderr.read().decode(errors="replace")[-800:]

    def snapshots(self) -> list[Any]:
        from ocrmp.pool.slots import SlotTable

        try:
            with SlotTable.attach(self.name) as table:
                return [snap for snap in table.snapshots() if snap.pid]
        except Exception:
            return []

    def wait_phase(self, phase: int, count: int, timeout: float = 30.0) -> list[Any]:
        """Wait until `count` workers are in `phase`; their snapshots."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.proc is not None
            if self.proc.poll() is not None:
                raise RuntimeError(f"ocrmp run exited with {self.proc.returncode}: "
                                   f"{self.stderr()}")
            snaps = [s for s in self.snapshots() if s.phase == phase]
            if len(snaps) >= count:
                return snaps
            time.sleep(0.01)
        raise RuntimeError(f"pool {self.name}: {count} workers not in phase {phase} "
                           f"within {timeout:.0f}s; see {self.log_path}")


# -- 1. ocrmp throughput --------------------------------------------------------------


def ocrmp_throughput(server: Server, workdir: Path, n: int, size: int,
                     profile: bool = False, source: Path | None = None) -> dict[str, Any]:
    label = "_profile" if profile else "_baseline" if source else ""
    dsn = server.queue_database(f"tput_{size}{label}")
    enqueue_bulk(dsn, n)
    pool = PoolProcess(dsn, workdir, size, "--until-idle", source=source).start()
    spy = start_py_spy(pool.pid) if profile else None
    code, wall = pool.wait(timeout=max(120.0, n / 100))
    result = {"size": size, "n": n, "exit_code": code, "wall_s": wall, **span(dsn),
              "log": str(pool.log_path)}
    if code != 0:
        result["stderr"] = pool.stderr()
    if spy is not None:
        result["profile"] = finish_py_spy(spy, pool.pid)
    return result


def alternating(server: Server, workdir: Path, n: int, baseline: Path,
                rounds: int) -> dict[str, Any]:
    """`--size 2` of this tree and of the baseline, in turn, each going first every other
    round: on a busy machine one pair says little, the medians of several say more."""
    ours: list[float] = []
    theirs: list[float] = []
    for i in range(rounds):
        pair = [(ours, None), (theirs, baseline)]
        for runs, source in pair if i % 2 == 0 else pair[::-1]:
            runs.append(ocrmp_throughput(server, workdir, n, 2, source=source)["jobs_s"])
    return {"ours": ours, "baseline": theirs, "ours_median": statistics.median(ours),
            "baseline_median": statistics.median(theirs)}


# -- 2. the raw SKIP LOCKED loop ------------------------------------------------------

MINIMAL_CLAIM = """
UPDATE extraction_queue q
SET status_id = 6, ocr_worker_id = %(worker)s, ocr_started_at = now(),
    ocr_attempts = q.ocr_attempts + 1
WHERE q.id = (SELECT id FROM extraction_queue
              WHERE status_id = 3 AND document_source = %(kind)s
              ORDER BY created_at, id LIMIT 1 FOR UPDATE SKIP LOCKED)
RETURNING q.id, q.ocr_attempts
"""
MINIMAL_COMPLETE = """
UPDATE extraction_queue SET status_id = 5, ocr_completed_at = now()
WHERE id = %(id)s AND ocr_worker_id = %(worker)s AND ocr_attempts = %(attempt)s
"""


def raw_loop_worker(dsn: str, index: int, minimal: bool, barrier: Any) -> None:
    """Claim one, complete it, until neither kind has a ready job. Own kind first."""
    worker = f"raw-{index}"
    kinds = list(KINDS[index % 2:]) + list(KINDS[:index % 2])
    claim, complete = ((MINIMAL_CLAIM, MINIMAL_COMPLETE) if minimal
                       else (queries()["claim"], queries()["complete"]))
    with psycopg.connect(dsn, autocommit=True) as conn:
        barrier.wait()
        while kinds:
            params = ({"worker": worker, "kind": kinds[0]} if minimal else
                      {"workers": [worker], "kinds": [kinds[0]], "lease_s": 60.0})
            row = conn.execute(claim.encode(), params).fetchone()
            if row is None:
                kinds.pop(0)
                continue
            if minimal:
                conn.execute(MINIMAL_COMPLETE.encode(),
                             {"id": row[0], "worker": worker, "attempt": row[1]})
            else:
                conn.execute(complete.encode(), {
                    "id": row[0], "worker_id": worker, "attempt": row[5],
                    "text": "fake text", "result": Jsonb({"engine": "raw"}), "pages": 1})


def raw_loop(server: Server, n: int, processes: int, minimal: bool) -> dict[str, Any]:
    dsn = server.queue_database(f"raw_{'minimal' if minimal else 'ocrmp'}")
    enqueue_bulk(dsn, n)
    barrier = FORK.Barrier(processes)
    procs = [FORK.Process(target=raw_loop_worker, args=(dsn, i, minimal, barrier))
             for i in range(processes)]
    started = time.monotonic()
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join(300)
    wall = time.monotonic() - started
    return {"processes": processes, "n": n, "wall_s": wall,
            "exit_codes": [proc.exitcode for proc in procs], **span(dsn)}


def claim_statement(server: Server, claims: int) -> dict[str, Any]:
    """The claim alone, one job at a time on one connection: ocrmp's statement (for one
    worker) against the minimal one-row UPDATE. Mean client-side ms per claim."""
    result: dict[str, Any] = {"claims": claims}
    for name in ("ocrmp", "minimal"):
        dsn = server.queue_database(f"claim_{name}")
        enqueue_bulk(dsn, 2 * claims)
        with psycopg.connect(dsn, autocommit=True) as conn:
            began = time.perf_counter()
            for _ in range(claims):
                if name == "ocrmp":
                    conn.execute(queries()["claim"].encode(),
                                 {"workers": ["w"], "kinds": ["acte"], "lease_s": 60.0})
                else:
                    conn.execute(MINIMAL_CLAIM.encode(), {"worker": "w", "kind": "acte"})
            result[f"{name}_ms"] = (time.perf_counter() - began) / claims * 1000
    return result


# -- 3. pgqueuer ----------------------------------------------------------------------


def pgqueuer_setup(dsn: str, n: int) -> None:
    from pgqueuer import PsycopgDriver, Queries

    async def setup() -> None:
        conn = await psycopg.AsyncConnection.connect(dsn, autocommit=True)
        try:
            queries_ = Queries(PsycopgDriver(conn))
            await queries_.install()
            for start in range(0, n, 1000):
                count = min(1000, n - start)
                await queries_.enqueue(["noop"] * count, [None] * count, [0] * count)
        finally:
            await conn.close()

    asyncio.run(setup())


def pgqueuer_consumer(dsn: str, batch: int, barrier: Any) -> None:
    from pgqueuer import PsycopgDriver, Queries, QueueManager
    from pgqueuer.types import QueueExecutionMode

    async def consume() -> None:
        conn = await psycopg.AsyncConnection.connect(dsn, autocommit=True)
        manager = QueueManager(Queries(PsycopgDriver(conn)))

        @manager.entrypoint("noop")
        async def noop(job: object) -> None:
            return None

        barrier.wait()
        await manager.run(batch_size=batch, mode=QueueExecutionMode.drain,
                          dequeue_timeout=timedelta(seconds=1))
        await conn.close()

    asyncio.run(consume())


def pgqueuer_run(server: Server, n: int, processes: int, batch: int) -> dict[str, Any]:
    dsn = server.database(f"pgqueuer_b{batch}")
    pgqueuer_setup(dsn, n)
    barrier = FORK.Barrier(processes)
    procs = [FORK.Process(target=pgqueuer_consumer, args=(dsn, batch, barrier))
             for _ in range(processes)]
    started = time.monotonic()
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join(120)
        if proc.is_alive():
            proc.terminate()
            proc.join(10)
    wall = time.monotonic() - started
    with psycopg.connect(dsn) as conn:
        row = conn.execute(
            "SELECT count(*) FILTER (WHERE status = 'successful'),"
            " extract(epoch FROM max(created) FILTER (WHERE status = 'successful')"
            "                  - min(created) FILTER (WHERE status = 'picked'))"
            " FROM pgqueuer_log").fetchone()
        left = conn.execute("SELECT count(*) FROM pgqueuer").fetchone()
    assert row is not None and left is not None
    done, seconds = int(row[0]), float(row[1] or math.nan)
    return {"processes": processes, "batch": batch, "n": n, "wall_s": wall, "done": done,
            "left_in_queue": int(left[0]), "seconds": seconds,
            "jobs_s": done / seconds if seconds else math.nan,
            "exit_codes": [proc.exitcode for proc in procs]}


def pgqueuer_peer(server: Server, n: int, batch: int) -> dict[str, Any]:
    try:
        return pgqueuer_run(server, n, 2, batch)
    except Exception as error:  # a peer that fails must not lose the rest of the run
        return {"batch": batch, "error": f"{type(error).__name__}: {error}"}


# -- 4. pick-up latency ---------------------------------------------------------------


def pickup_latency(server: Server, workdir: Path, k: int, notify: bool) -> dict[str, Any]:
    from ocrmp.pool.slots import Phase

    dsn = server.queue_database(f"pickup_{'notify' if notify else 'poll'}")
    if not notify:
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute("ALTER TABLE extraction_queue DISABLE TRIGGER ocrmp_notify_ready")
    pool = PoolProcess(dsn, workdir, 2).start()
    rng = random.Random(0)
    try:
        pool.wait_phase(Phase.IDLE, 2)
        time.sleep(0.3)  # let the start-up claims and depth refresh pass
        ids: list[str] = []
        with psycopg.connect(dsn, autocommit=True) as conn:
            for i in range(k):
                row = conn.execute(
                    "INSERT INTO extraction_queue (document_number, document_source,"
                    " status_id, supabase_path) VALUES (%s, %s, 3, 'fake:sleep=0') RETURNING id",
                    (f"pickup-{i}", KINDS[i % 2])).fetchone()
                assert row is not None
                ids.append(str(row[0]))
                time.sleep(0.020 + rng.uniform(0, 0.010))
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                row = conn.execute("SELECT count(*) FROM extraction_queue"
                                   " WHERE ocr_started_at IS NULL").fetchone()
                if row is not None and row[0] == 0:
                    break
                time.sleep(0.05)
            rows = conn.execute("SELECT extract(epoch FROM ocr_started_at - created_at)"
                                " FROM extraction_queue WHERE ocr_started_at IS NOT NULL"
                                ).fetchall()
    finally:
        pool.stop()
    latencies = [float(row[0]) for row in rows]
    return {"notify": notify, "k": k, "claimed": len(latencies), **summary_ms(latencies)}


# -- 5. release latency after kill -9 -------------------------------------------------


@dataclass
class Kill:
    seconds: float  # kill → row seen back to 3 or claimed again (polled)
    release_s: float  # kill → the release statement's now() (database clock)
    seen: str


@dataclass
class KillRun:
    kills: list[Kill] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def kill_busy_worker(pool: PoolProcess, conn: psycopg.Connection) -> Kill:
    """kill -9 a worker busy on a first attempt; time until its job is free again."""
    from ocrmp.pool.slots import Phase

    deadline = time.monotonic() + 30
    while True:
        busy = [s for s in pool.wait_phase(Phase.BUSY, 1) if s.attempt == 1 and s.payload]
        if busy:
            break
        if time.monotonic() > deadline:
            raise RuntimeError("no worker busy on a first attempt")
        time.sleep(0.01)
    snap = busy[0]
    job_id = json.loads(snap.payload)["id"]
    row = conn.execute("SELECT clock_timestamp()").fetchone()
    assert row is not None
    killed_at = row[0]
    started = time.monotonic()
    os.kill(snap.pid, signal.SIGKILL)
    query = ("SELECT status_id, ocr_attempts, ocr_last_error_at FROM extraction_queue"
             " WHERE id = %s")
    while time.monotonic() - started < 10:
        status, attempts, released_at = conn.execute(query, (job_id,)).fetchone()  # type: ignore[misc]
        if status != 6 or attempts > snap.attempt:
            seconds = time.monotonic() - started
            seen = "back to 3" if status == 3 else (
                "claimed again" if status == 6 else f"status {status}")
            release_s = ((released_at - killed_at).total_seconds()
                         if released_at is not None else math.nan)
            return Kill(seconds, release_s, seen)
        time.sleep(0.002)
    raise RuntimeError(f"job {job_id} still held 10s after its worker was killed")


def release_latency(server: Server, workdir: Path, repetitions: int) -> dict[str, Any]:
    """Fresh pool for every two kills (one per slot): the breaker counts deaths per slot."""
    dsn = server.queue_database("release")
    run = KillRun()
    while len(run.kills) < repetitions and len(run.errors) < 3:
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute("TRUNCATE extraction_queue")
            for i in range(4):  # separate statements: distinct created_at, a fixed order
                conn.execute("INSERT INTO extraction_queue (document_number, document_source,"
                             " status_id, supabase_path) VALUES (%s, %s, 3, 'fake:sleep=30')",
                             (f"slow-{i}", KINDS[i % 2]))
            pool = PoolProcess(dsn, workdir, 2).start()
            try:
                for _ in range(min(2, repetitions - len(run.kills))):
                    run.kills.append(kill_busy_worker(pool, conn))
            except RuntimeError as error:
                run.errors.append(str(error))
            finally:
                pool.stop()
    seconds = [kill.seconds for kill in run.kills]
    release = [kill.release_s for kill in run.kills if not math.isnan(kill.release_s)]
    return {"repetitions": len(run.kills), **summary_ms(seconds),
            "release_stmt_p50_ms": percentile(release, 50) * 1000 if release else math.nan,
            "seen": dict(Counter(kill.seen for kill in run.kills)),
            "samples_ms": [round(s * 1000, 2) for s in seconds], "errors": run.errors}


# -- profile --------------------------------------------------------------------------


def start_py_spy(pid: int) -> subprocess.Popen[bytes] | None:
    binary = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    if not Path(binary).exists():
        return None
    out = OUT_DIR / "pool-master.folded"
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    return subprocess.Popen([binary, "record", "--pid", str(pid), "--rate", "200",
                             "--nonblocking", "--format", "raw", "--output", str(out)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def finish_py_spy(spy: subprocess.Popen[bytes], pid: int) -> dict[str, Any]:
    """py-spy stops by itself when the master exits; summarise its folded stacks."""
    try:
        spy.wait(30)
    except subprocess.TimeoutExpired:
        spy.send_signal(signal.SIGINT)
        spy.wait(30)
    out = OUT_DIR / "pool-master.folded"
    if not out.exists():
        return {"error": (spy.stderr.read().decode(errors="replace")[-500:]
                          if spy.stderr else "no output")}
    return {"folded": str(out), **hot_spots(out.read_text().splitlines())}


def hot_spots(lines: Sequence[str], top: int = 15) -> dict[str, Any]:
    """Self time by innermost frame, and inclusive time by ocrmp frame, in % of samples."""
    own: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    total = 0
    for line in lines:
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        total += count
        frames = stack.split(";")
        own[frames[-1]] += count
        for frame in set(frames):
            if "ocrmp/" in frame or "psycopg" in frame:
                inclusive[frame] += count
    share = 100.0 / total if total else 0.0
    return {"samples": total,
            "self": [(frame, round(n * share, 1)) for frame, n in own.most_common(top)],
            "inclusive": [(frame, round(n * share, 1)) for frame, n in inclusive.most_common(top)]}


# -- the report -----------------------------------------------------------------------


def fmt(value: float, digits: int = 0) -> str:
    return "n/a" if value is None or math.isnan(value) else f"{value:,.{digits}f}"


def ratio(a: float, b: float) -> str:
    return "n/a" if not a or not b or math.isnan(a) or math.isnan(b) else f"{a / b:.2f}"


def throughput_row(label: str, result: dict[str, Any], target: str = "") -> list[str]:
    if "error" in result:
        return [label, "failed", target, result["error"][:80]]
    note = f"{result['done']}/{result['n']} done in {fmt(result['seconds'], 2)} s"
    note += f"; wall {fmt(result['wall_s'], 2)} s"
    if result.get("retried"):
        note += f"; {result['retried']} retried"
    if "exit_code" in result and result["exit_code"] != 0:
        note += f"; exit {result['exit_code']}"
    return [label, f"{fmt(result['jobs_s'])} jobs/s", target, note]


def latency_row(label: str, result: dict[str, Any], target: str = "") -> list[str]:
    figure = (f"p50 {fmt(result['p50_ms'], 1)} / p99 {fmt(result['p99_ms'], 1)} / "
              f"max {fmt(result['max_ms'], 1)} ms")
    return [label, figure, target, f"n={result['n']}"]


def report(results: dict[str, Any], settings: dict[str, Any]) -> list[list[str]]:
    r = results
    n = settings["n"]
    rows = [
        throughput_row("ocrmp run --size 2, no-op", r["ocrmp_size2"], "≥ 2,000 jobs/s"),
        throughput_row("ocrmp run --size 1, no-op", r["ocrmp_size1"]),
        throughput_row("raw SKIP LOCKED loop ×2 (ocrmp claim+complete SQL)", r["raw_ocrmp_sql"]),
        throughput_row("raw SKIP LOCKED loop ×2 (minimal one-row SQL)", r["raw_minimal_sql"]),
        ["claim statement alone, 1 connection, sequential",
         f"ocrmp {fmt(r['claim_statement']['ocrmp_ms'], 2)} ms / minimal "
         f"{fmt(r['claim_statement']['minimal_ms'], 2)} ms", "",
         f"mean of {r['claim_statement']['claims']} claims of one job"],
        throughput_row("pgqueuer ×2 consumers, batch 1", r["pgqueuer_b1"]),
        throughput_row("pgqueuer ×2 consumers, batch 10", r["pgqueuer_b10"]),
        latency_row("pick-up, LISTEN/NOTIFY (--size 2 idle)", r["pickup_notify"], "p50 ≤ 10 ms"),
        latency_row(f"pick-up, poll only (poll {settings['poll_interval_s']:g} s ±25%)",
                    r["pickup_poll"]),
        [f"release after kill -9 of a busy worker ({r['release']['repetitions']}×)",
         f"p50 {fmt(r['release']['p50_ms'], 1)} / max {fmt(r['release']['max_ms'], 1)} ms",
         "≤ 1,000 ms", f"release UPDATE at p50 {fmt(r['release']['release_stmt_p50_ms'], 1)}"
         f" ms after the kill; seen {r['release']['seen']}"],
    ]
    ours = r["ocrmp_size2"].get("jobs_s", math.nan)
    if "baseline_size2" in r:
        rows.insert(1, throughput_row(f"ocrmp run --size 2, no-op, {settings['baseline']}",
                                      r["baseline_size2"]))
        rows.append(["ratio ocrmp --size 2 / the baseline tree's",
                     ratio(ours, r["baseline_size2"].get("jobs_s", math.nan)), "", ""])
    if "alternating" in r:
        alt = r["alternating"]
        rows.append([f"alternating --size 2 runs ({len(alt['ours'])} each): median this tree "
                     "/ baseline", f"{fmt(alt['ours_median'])} / {fmt(alt['baseline_median'])}"
                     " jobs/s", "", "this tree " + ", ".join(fmt(v) for v in alt["ours"])
                     + "; baseline " + ", ".join(fmt(v) for v in alt["baseline"])])
    rows.append(["ratio ocrmp --size 2 / raw loop (ocrmp SQL)",
                 ratio(ours, r["raw_ocrmp_sql"].get("jobs_s", math.nan)), "", ""])
    rows.append(["ratio ocrmp --size 2 / raw loop (minimal SQL)",
                 ratio(ours, r["raw_minimal_sql"].get("jobs_s", math.nan)), "", ""])
    for batch in (1, 10):
        rows.append([f"ratio ocrmp --size 2 / pgqueuer batch {batch}",
                     ratio(ours, r[f"pgqueuer_b{batch}"].get("jobs_s", math.nan)), "", ""])
    verdicts = {"throughput_met": ours >= TARGET_JOBS_S,
                "pickup_p50_met": r["pickup_notify"]["p50_ms"] <= TARGET_PICKUP_P50_MS}
    r["verdicts"] = verdicts
    print(f"\nno-op jobs: N={n}; cores: {os.cpu_count()}")
    print_table(rows, ["measure", "figure", "target", "note"])
    print(f"\ntargets met: throughput {'yes' if verdicts['throughput_met'] else 'NO'}, "
          f"pick-up p50 {'yes' if verdicts['pickup_p50_met'] else 'NO'}")
    return rows


def print_profile(profile: dict[str, Any]) -> None:
    if "error" in profile:
        print(f"\nprofile: py-spy failed: {profile['error']}")
        return
    print(f"\nmaster profile ({profile['samples']} samples, {profile['folded']}):")
    print("  self time (innermost frame):")
    for frame, pct in profile["self"]:
        print(f"    {pct:5.1f}%  {frame}")
    print("  inclusive (ocrmp and psycopg frames):")
    for frame, pct in profile["inclusive"]:
        print(f"    {pct:5.1f}%  {frame}")


# -- main -----------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dsn", help="a PostgreSQL server to use instead of a private one "
                        "(databases named ocrmp_bench_pool_* are created and dropped there)")
    parser.add_argument("--jobs", type=int, default=5000, help="no-op jobs per throughput run")
    parser.add_argument("--pickups", type=int, default=200, help="jobs per pick-up run")
    parser.add_argument("--kills", type=int, default=10, help="kill -9 repetitions")
    parser.add_argument("--quick", action="store_true", help="N=1000, 50 pick-ups, 4 kills")
    parser.add_argument("--profile", action="store_true",
                        help="one more --size 2 run under py-spy (master), summarised")
    parser.add_argument("--baseline", type=Path,
                        help="a source tree whose ocrmp runs --size 2 too, right after ours")
    parser.add_argument("--rounds", type=int, default=0,
                        help="with --baseline: K more --size 2 runs of each tree, alternating")
    args = parser.parse_args(argv)
    if args.quick:
        args.jobs, args.pickups, args.kills = 1000, 50, 4
    return args


def measure(server: Server, args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    n = args.jobs
    results: dict[str, Any] = {}
    steps = [
        ("ocrmp_size2", lambda: ocrmp_throughput(server, workdir, n, 2)),
        *([("baseline_size2", lambda: ocrmp_throughput(server, workdir, n, 2,
                                                       source=args.baseline))]
          if args.baseline else []),
        ("ocrmp_size1", lambda: ocrmp_throughput(server, workdir, n, 1)),
        ("raw_ocrmp_sql", lambda: raw_loop(server, n, 2, minimal=False)),
        ("raw_minimal_sql", lambda: raw_loop(server, n, 2, minimal=True)),
        ("claim_statement", lambda: claim_statement(server, min(1500, n // 2))),
        ("pgqueuer_b1", lambda: pgqueuer_peer(server, n, 1)),
        ("pgqueuer_b10", lambda: pgqueuer_peer(server, n, 10)),
        ("pickup_notify", lambda: pickup_latency(server, workdir, args.pickups, True)),
        ("pickup_poll", lambda: pickup_latency(server, workdir, args.pickups, False)),
        ("release", lambda: release_latency(server, workdir, args.kills)),
    ]
    if args.baseline and args.rounds:
        steps.append(("alternating", lambda: alternating(server, workdir, n, args.baseline,
                                                          args.rounds)))
    if args.profile:
        steps.append(("profile_size2",
                      lambda: ocrmp_throughput(server, workdir, n, 2, profile=True)))
    for name, step in steps:
        began = time.monotonic()
        results[name] = step()
        print(f"  {name}: {time.monotonic() - began:.1f} s", file=sys.stderr, flush=True)
    return results


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    command = command_line()
    shutil.rmtree(LOG_DIR, ignore_errors=True)
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="ocrmp-bench-pool-") as tmp, \
            postgres(args.dsn, prefix="ocrmp_bench_pool") as server:
        fsync = server.setting("fsync")
        print(f"command: {command}")
        print(f"server: {server.description}; fsync={fsync}")
        settings = {"n": args.jobs, "pickups": args.pickups, "kills": args.kills,
                    "poll_interval_s": Settings().poll_interval_s, "fsync": fsync,
                    "server": server.description, "cpus": os.cpu_count(),
                    "baseline": str(args.baseline) if args.baseline else None}
        results = measure(server, args, Path(tmp))
    rows = report(results, settings)
    if "profile_size2" in results:
        print_profile(results["profile_size2"].get("profile", {"error": "py-spy not found"}))
    elapsed = time.monotonic() - started
    path = write_json("pool.json", {"command": command, "settings": settings,
                                    "elapsed_s": elapsed, "results": results, "table": rows})
    print(f"\n{elapsed:.0f} s in all; results in {path}")


if __name__ == "__main__":
    main()
