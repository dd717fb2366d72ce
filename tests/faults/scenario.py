"""The fault scenario shared by the short suite (tests/faults) and bench/chaos.py.

Three pools ("hosts") share one private PostgreSQL and one private Redis:

- host1 and host2: the fake runner (tests.doubles), environments dev and prod, a rate limit
  through Redis, short leases; they run good fake documents and the fake poison (hang,
  hang-child, leak);
- ocr: `--engine auto` (tesseract) on environment staging, with a storage root holding
  real documents and the poison that needs a real engine (corrupt, encrypted, missing,
  escaping the root, and hostile files that would render for hours or decode gigabytes).

Faults are injected while a feeder keeps the queues full; each fault gets a watcher that
records when the system recovered from it. `verify()` reads the databases, the record
files of the fake engine, the pools' JSON logs, the process table and Redis, and returns
every violated invariant in words.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import re
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil
import psycopg
import redis

from ocrmp.corpus import acte_page, cer, write_pdf
from ocrmp.embedded import EmbeddedPostgres
from ocrmp.errors import DatabaseError, error_kind
from ocrmp.ocr.errors import (
    CorruptDocument,
    DocumentNotFound,
    DocumentTimeout,
    EncryptedDocument,
    EngineTimeout,
    ImageTooLarge,
    PageTooComplex,
    PathEscapesRoot,
    RenderTimeout,
)
from ocrmp.schema import migrate
from ocrmp.store import JobStore
from tests.doubles import FAKE
from tests.hostile import HOSTILE
from tests.poolrun import Pool, alive, signal_process
from tests.servers import RedisServer

FAKE_POOLS = ("host1", "host2")
FAKE_ENVS = ("dev", "prod")
POOL_SIZE = 2
RECOVERY_BOUND_S = 90.0  # only keeps a broken build from hanging
SHRINK = f"pool size {POOL_SIZE} → {POOL_SIZE - 1}"  # host1's log under memory pressure
GROW = f"pool size {POOL_SIZE - 1} → {POOL_SIZE}"

# Fake poison: supabase_path -> words its ocr_error must contain (one of them). A leak is
# killed at the hard limit, or, when the host is short of memory and the leak grows slowly,
# by the job timeout first: both name a runaway document.
FAKE_POISON = {
    "fake:hang": ("job timeout",),
    "fake:hang-child": ("job timeout",),
    "fake:leak=40M": ("over the hard limit", "job timeout"),
}
# Real poison (staging, real engine): storage path -> the kind its ocr_error must start
# with (never words: the error quotes the path, and these paths name their poison).
TIMEOUTS = (RenderTimeout.kind, EngineTimeout.kind, DocumentTimeout.kind)
REAL_POISON = {
    "acte/corrupt.pdf": (CorruptDocument.kind,),
    "acte/encrypted.pdf": (EncryptedDocument.kind,),
    "acte/missing.pdf": (DocumentNotFound.kind,),
    "acte/../../outside.pdf": (PathEscapesRoot.kind,),
    # Hostile documents (tests/hostile.py): each ends in 4 within its attempts' page
    # timeouts, its renderer stopped, the worker and the other jobs untouched.
    "acte/strokes-1.pdf": TIMEOUTS,
    "acte/strokes-1999.pdf": TIMEOUTS,
    "acte/strokes-2m.pdf": (PageTooComplex.kind,),
    "acte/giants.pdf": (ImageTooLarge.kind,),
}
HOSTILE_FILES = {"strokes-1.pdf": "stroke-page.pdf", "strokes-1999.pdf": "stroke-pages.pdf",
                 "strokes-2m.pdf": "stroke-bomb.pdf", "giants.pdf": "hidden-giants.pdf"}
# Long enough for the real deeds on a loaded machine; each hostile attempt costs this much.
OCR_PAGE_TIMEOUT_S = 8


@dataclass(frozen=True)
class Expected:
    """How a poison document's ocr_error must read: a job error's kind (the real engine's
    errors), or one of some words (the master's own reasons: a job timeout, a kill at the
    hard limit, which quote no path)."""

    kinds: tuple[str, ...] = ()
    words: tuple[str, ...] = ()

    def matches(self, ocr_error: str | None) -> bool:
        if self.kinds:
            return error_kind(ocr_error) in self.kinds
        return any(word in (ocr_error or "").lower() for word in self.words)

    def __str__(self) -> str:
        return (self.kinds or self.words)[0]


def encrypted_pdf() -> bytes:
    from tests.unit.ocr.test_pages import encrypted_pdf as build

    return build()


@dataclass
class Fault:
    """One injected fault and, once its watcher saw it, when the system recovered."""

    kind: str
    pool: str
    started: float  # monotonic
    detail: str = ""
    cleared: float | None = None  # outages: when the server came back
    recovered: float | None = None
    failure: str = ""  # what the watcher saw instead of recovery

    @property
    def recovery_s(self) -> float | None:
        """From the fault (a kill) or from the server's return (an outage) to recovery."""
        if self.recovered is None:
            return None
        return self.recovered - (self.cleared if self.cleared is not None else self.started)


@dataclass
class Report:
    faults: list[Fault]
    jobs: int = 0
    good: int = 0
    poison: int = 0
    lost: list[str] = field(default_factory=list)
    duplicated: list[str] = field(default_factory=list)
    stuck: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    extra_executions: Counter[str] = field(default_factory=Counter)
    exhausted_by_faults: list[str] = field(default_factory=list)
    pool_exits: list[str] = field(default_factory=list)  # pools that exited by themselves

    @property
    def ok(self) -> bool:
        return not (self.lost or self.duplicated or self.stuck or self.problems
                    or self.pool_exits)

    def recoveries(self) -> dict[str, list[float]]:
        by_kind: dict[str, list[float]] = defaultdict(list)
        for fault in self.faults:
            if fault.recovery_s is not None:
                by_kind[fault.kind].append(fault.recovery_s)
        return by_kind

    def table(self) -> str:
        lines = [f"{'fault':<16} {'injected':>8} {'recovered':>9} {'p50 s':>7} {'max s':>7}"]
        kinds = Counter(f.kind for f in self.faults)
        recoveries = self.recoveries()
        for kind in sorted(kinds):
            times = recoveries.get(kind, [])
            p50 = f"{statistics.median(times):.2f}" if times else "-"
            top = f"{max(times):.2f}" if times else "-"
            lines.append(f"{kind:<16} {kinds[kind]:>8} {len(times):>9} {p50:>7} {top:>7}")
        every = [t for times in recoveries.values() for t in times]
        if every:
            lines.append(f"{'all':<16} {len(self.faults):>8} {len(every):>9} "
                         f"{statistics.median(every):>7.2f} {max(every):>7.2f}")
        lines.append("")
        lines.append(f"jobs {self.jobs} (good {self.good}, poison {self.poison})   "
                     f"lost {len(self.lost)}   duplicated {len(self.duplicated)}   "
                     f"stuck {len(self.stuck)}   exhausted by faults "
                     f"{len(self.exhausted_by_faults)}   pools exited by themselves "
                     f"{len(self.pool_exits)}")
        extras = ", ".join(f"{why}: {n}" for why, n in sorted(self.extra_executions.items()))
        lines.append(f"extra executions explained by injected faults: {extras or 'none'}")
        lines.append("exhausted by faults: good documents in 4, every attempt cut short by an "
                     "injected fault")
        for title, items in (("LOST", self.lost), ("DUPLICATED", self.duplicated),
                             ("STUCK", self.stuck), ("EXHAUSTED BY FAULTS",
                                                     self.exhausted_by_faults),
                             ("POOL EXITED", self.pool_exits), ("PROBLEM", self.problems)):
            lines += [f"{title}: {item}" for item in items[:20]]
        return "\n".join(lines)


class Scenario:
    """Servers, pools, feeder, fault injectors and the final verification."""

    def __init__(self, pg: EmbeddedPostgres, redis_server: RedisServer, workdir: Path, *,
                 seed: int = 0, real_ocr: bool = True, memory_reserve: float | None = None,
                 good_sleeps: tuple[float, ...] = (0.1, 0.2, 0.4),
                 poison_share: float = 0.02, say: Callable[[str], None] | None = None) -> None:
        self.pg = pg
        self.redis = redis_server
        self.workdir = workdir
        self.rng = random.Random(seed)
        self.real_ocr = real_ocr
        self.memory_reserve = memory_reserve
        self.good_sleeps = good_sleeps
        self.poison_share = poison_share
        self.say = say or (lambda text: None)
        self.host = socket.gethostname()
        self.prefix = f"f{uuid.uuid4().hex[:8]}"  # pool names are machine-wide
        self.dsns: dict[str, str] = {}
        self.pools: dict[str, Pool] = {}
        self.faults: list[Fault] = []
        self.killed_pids: dict[int, str] = {}  # worker pid -> the fault that killed it
        self.good: dict[tuple[str, str], str] = {}  # (env, id) -> document_number
        self.poison: dict[tuple[str, str], Expected] = {}  # (env, id) -> its error
        self.real_good: dict[str, str] = {}  # staging id -> ground-truth text
        self.lock = threading.Lock()
        self.stop_feeding = threading.Event()
        self.threads: list[threading.Thread] = []
        self.problems: list[str] = []
        self.counter = 0
        self.hog: subprocess.Popen[bytes] | None = None
        self.busy: set[str] = set()  # fault kinds in progress (one at a time each)
        self.down: set[str] = set()  # pools a fault keeps stopped on purpose
        self.pool_exits: list[str] = []

    # -- setup ----------------------------------------------------------------------------

    def setup(self) -> None:
        envs = (*FAKE_ENVS, "staging") if self.real_ocr else FAKE_ENVS
        with psycopg.connect(self.pg.dsn(), autocommit=True) as conn:
            for env in envs:
                conn.execute(f"CREATE DATABASE chaos_{env}")  # type: ignore[arg-type]
        for env in envs:
            self.dsns[env] = self.pg.dsn(f"chaos_{env}")
            migrate(self.dsns[env])
        if self.real_ocr:
            self._real_documents()

    def _real_documents(self) -> None:
        root = self.workdir / "storage"
        (root / "acte").mkdir(parents=True)
        store = JobStore(self.dsns["staging"], "staging")
        try:
            for seed in (31, 32):
                page = acte_page(seed, lines=5)
                write_pdf([page.image], root / "acte" / f"deed-{seed}.pdf")
                job = store.enqueue("acte", f"acte/deed-{seed}.pdf", f"9 000 0{seed}")
                self.real_good[job] = page.text
            (root / "acte" / "corrupt.pdf").write_bytes(b"%PDF-1.4\n garbage, not a document")
            (root / "acte" / "encrypted.pdf").write_bytes(encrypted_pdf())
            for name, builder in HOSTILE_FILES.items():
                (root / "acte" / name).write_bytes(HOSTILE[builder]())
            (self.workdir / "outside.pdf").write_bytes((root / "acte" / "deed-31.pdf")
                                                       .read_bytes())
            for number, (path, kind) in enumerate(REAL_POISON.items()):
                job = store.enqueue("acte", path, f"8 000 00{number}")
                self.poison[("staging", job)] = Expected(kinds=kind)
        finally:
            store.close()
        self.storage_root = root

    def fake_env(self, name: str) -> dict[str, str]:
        env = {"OCR_PROD": "true", "PROD_DATABASE_URL": self.dsns["prod"],
               "REDIS_URL": self.redis.url, "OCRMP_RATE_LIMIT": "dev=30/s,prod=30/s",
               "OCRMP_LEASE": "3s", "OCRMP_RESCUE_INTERVAL": "1s", "OCRMP_RETRY_BASE": "0",
               "OCRMP_LOG_FORMAT": "json", "OCRMP_POLL_INTERVAL": "1s"}
        if name == "host1" and self.memory_reserve is not None:
            env["OCRMP_MEMORY_RESERVE"] = f"{self.memory_reserve:.4f}"
        return env

    def start_pools(self) -> None:
        args = ("--size", str(POOL_SIZE), "--runner", FAKE, "--job-timeout", "2s",
                "--max-memory", "150M", "--hard-memory", "250M", "--graceful-timeout", "20s")
        for name in FAKE_POOLS:
            self.pools[name] = Pool(self.dsns["dev"], self.workdir, *args,
                                    env=self.fake_env(name), name=f"{self.prefix}-{name}"
                                    ).start()
        if self.real_ocr:
            self.pools["ocr"] = Pool(
                self.dsns["staging"], self.workdir, "--size", "1", "--engine", "auto",
                "--job-timeout", "120s", "--graceful-timeout", "60s", name=f"{self.prefix}-ocr",
                env={"OCR_DEV": "false", "OCR_STAGING": "true",
                     "STAGING_DATABASE_URL": self.dsns["staging"],
                     "OCRMP_STORAGE_ROOT": str(self.storage_root), "REDIS_URL": self.redis.url,
                     "OCRMP_LEASE": "10s", "OCRMP_RESCUE_INTERVAL": "1s",
                     "OCRMP_RETRY_BASE": "0", "OCRMP_LOG_FORMAT": "json",
                     "OCRMP_PAGE_TIMEOUT": str(OCR_PAGE_TIMEOUT_S)}).start()

    # -- feeding --------------------------------------------------------------------------

    def enqueue_poison(self) -> None:
        """One of each fake poison in each fake environment."""
        for env in FAKE_ENVS:
            store = JobStore(self.dsns[env], env)
            try:
                for path, words in FAKE_POISON.items():
                    job = store.enqueue("acte", path, f"poison-{env}-{path}")
                    self.poison[(env, job)] = Expected(words=words)
            finally:
                store.close()

    def enqueue_one_poison(self) -> tuple[str, str]:
        """A fake poison document in a random environment, mid-run."""
        env = self.rng.choice(FAKE_ENVS)
        path = self.rng.choice(sorted(FAKE_POISON))
        store = JobStore(self.dsns[env], env)
        try:
            with self.lock:
                self.counter += 1
                job = store.enqueue("acte", path, f"poison-{env}-{self.counter:06d}")
                self.poison[(env, job)] = Expected(words=FAKE_POISON[path])
        finally:
            store.close()
        self.say(f"poison: {path} in {env}")
        return env, job

    def enqueue_good(self, env: str, n: int) -> None:
        documents = []
        for _ in range(n):
            self.counter += 1
            kind = self.rng.choice(("acte", "index"))
            sleep = self.rng.choice(self.good_sleeps)
            pages = self.rng.choice((1, 1, 2))
            documents.append((kind, f"fake:sleep={sleep},pages={pages}",
                              f"{env}-{self.counter:06d}"))
        store = JobStore(self.dsns[env], env)
        try:
            ids = store.enqueue_many(documents)
        finally:
            store.close()
        for job, (_, _, number) in zip(ids, documents, strict=True):
            self.good[(env, job)] = number

    def start_feeder(self, depth: int = 12) -> None:
        """Keep each fake environment's queue about `depth` deep until stop_feeding."""
        def feed() -> None:
            while not self.stop_feeding.wait(0.5):
                for env in FAKE_ENVS:
                    try:
                        ready = self.count(env, 3)
                        if ready < depth:
                            with self.lock:
                                self.enqueue_good(env, depth - ready)
                    except (psycopg.Error, DatabaseError):
                        continue  # the server is restarting: feed on the next turn
        self._thread(feed)

    def count(self, env: str, *statuses: int) -> int:
        """Jobs in any of these statuses, in one statement (a job moving between two of
        them is counted once)."""
        with psycopg.connect(self.dsns[env], connect_timeout=2) as conn:
            row = conn.execute("SELECT count(*) FROM extraction_queue "
                               "WHERE status_id = ANY(%s)", (list(statuses),)).fetchone()
        return int(row[0]) if row else 0

    def done(self) -> dict[str, int]:
        return {env: self.count(env, 5) for env in FAKE_ENVS}

    # -- observing pools ------------------------------------------------------------------

    def live_workers(self, name: str) -> list[int]:
        pool = self.pools[name]
        if pool.proc is None or pool.proc.poll() is not None:
            return []
        return [p.pid for p in pool.workers() if alive(p.pid)]

    def at_size(self, name: str) -> bool:
        """The pool runs as many workers as it should (host1 is meant to be smaller while
        memory is short)."""
        size = 1 if name == "ocr" else POOL_SIZE
        workers = len(self.live_workers(name))
        if name == "host1" and "memory pressure" in self.busy:
            return 1 <= workers <= size
        return workers == size

    def busy_jobs(self, name: str) -> list[tuple[int, str, str, int]]:
        """(worker pid, env, job id, attempt) of the workers running a job now."""
        from ocrmp.pool.slots import Phase, SlotTable

        try:
            with SlotTable.attach(self.pools[name].name) as table:
                snaps = [s for s in table.snapshots() if s.phase == Phase.BUSY and s.payload]
        except Exception:
            return []
        busy = []
        for snap in snaps:
            payload = json.loads(snap.payload)
            busy.append((snap.pid, snap.env.value, payload["id"], snap.attempt))
        return busy

    def job_moved_on(self, env: str, job: str, attempt: int) -> bool:
        """The attempt that was running is over: the job is back in play or finished."""
        try:
            with psycopg.connect(self.dsns[env], connect_timeout=2) as conn:
                row = conn.execute("SELECT status_id, ocr_attempts FROM extraction_queue "
                                   "WHERE id = %s", (job,)).fetchone()
        except psycopg.OperationalError:
            return False
        return row is not None and (row[0] != 6 or row[1] != attempt)

    # -- faults ---------------------------------------------------------------------------

    def _thread(self, target: Callable[[], None]) -> None:
        def guarded() -> None:
            try:
                target()
            except Exception as error:  # a crashed injector must fail the run, not vanish
                self.problems.append(f"fault thread crashed: {error!r}")
        thread = threading.Thread(target=guarded, daemon=True)
        thread.start()
        self.threads.append(thread)

    def _watch(self, fault: Fault, recovered: Callable[[], bool], what: str,
               then: Callable[[], None] = lambda: None) -> None:
        """Wait in the background for `recovered()`; `then()` once the wait is over."""
        def watch() -> None:
            try:
                deadline = time.monotonic() + RECOVERY_BOUND_S
                while time.monotonic() < deadline:
                    if recovered():
                        fault.recovered = time.monotonic()
                        self.say(f"  {fault.kind} {fault.detail}: recovered in "
                                 f"{fault.recovery_s:.2f}s")
                        return
                    time.sleep(0.05)
                fault.failure = f"{what} within {RECOVERY_BOUND_S:.0f}s"
            finally:
                then()
        self._thread(watch)

    def _record(self, fault: Fault) -> Fault:
        with self.lock:
            self.faults.append(fault)
        self.say(f"fault: {fault.kind} on {fault.pool} {fault.detail}")
        return fault

    def kill_busy_worker(self, name: str | None = None) -> Fault | None:
        """kill -9 of a busy worker running a good document that has attempts to spare."""
        names = [name] if name else list(FAKE_POOLS)
        candidates = [(pool, *busy) for pool in names for busy in self.busy_jobs(pool)
                      if (busy[1], busy[2]) in self.good and busy[3] < 2]
        if not candidates:
            return None
        pool, pid, env, job, attempt = self.rng.choice(candidates)
        self.killed_pids[pid] = "worker kill"
        try:
            signal_process(pid, signal.SIGKILL)
        except ProcessLookupError:
            return None
        fault = self._record(Fault("worker kill", pool, time.monotonic(),
                                   f"pid {pid} job {env}/{job[:8]}"))
        self._watch(fault, lambda: self.job_moved_on(env, job, attempt) and self.at_size(pool)
                    and not alive(pid), "job back in play and pool back at size")
        return fault

    def check_pools(self) -> list[str]:
        """Pools that exited by themselves (no fault stopped them): noted, then restarted,
        so the run goes on and its report says so."""
        exited = []
        for name, pool in self.pools.items():
            if name in self.down or pool.proc is None or pool.proc.poll() is None:
                continue
            code = pool.wait(10)
            last = [line for line in pool.log().splitlines() if line.strip()][-1:] or [""]
            note = f"pool {name} exited by itself with code {code}: {last[0][:200]}"
            self.say(note)
            self.pool_exits.append(note)
            exited.append(name)
            pool.start()
        return exited

    def kill_master(self, name: str, down_s: float = 3.0) -> Fault | None:
        """kill -9 of a master; restarted after down_s. Its jobs come back by lease expiry."""
        if name in self.check_pools():
            return None  # it was not running: nothing to kill this time
        pool = self.pools[name]
        workers = self.live_workers(name)
        held = [(env, job, attempt) for _, env, job, attempt in self.busy_jobs(name)]
        for pid in workers:
            self.killed_pids[pid] = "master kill"
        self.down.add(name)
        try:
            os.kill(pool.pid, signal.SIGKILL)
        except ProcessLookupError:  # it exited between the check and the kill
            self.down.discard(name)
            self.check_pools()
            return None
        pool.wait(30)
        fault = self._record(Fault("master kill", name, time.monotonic(),
                                   f"{len(workers)} workers, {len(held)} jobs held"))
        self.busy.add("master kill")

        def restart() -> None:
            time.sleep(down_s)
            stray = [pid for pid in workers if alive(pid)]
            if stray:
                self.problems.append(f"workers {stray} of killed master {name} outlived it")
            pool.start()
            self.down.discard(name)
            self.busy.discard("master kill")

        self._thread(restart)
        self._watch(fault, lambda: all(self.job_moved_on(*ref) for ref in held)
                    and self.at_size(name), "held jobs rescued and the restarted pool at size")
        return fault

    def restart_master_during_outage(self, name: str, down_s: float = 3.0) -> Fault | None:
        """kill -9 of a master, PostgreSQL stopped, the master started again while it is
        down: the new master must stay up and wait, then serve once PostgreSQL is back."""
        if name in self.check_pools():
            return None
        pool = self.pools[name]
        workers = self.live_workers(name)
        held = [(env, job, attempt) for _, env, job, attempt in self.busy_jobs(name)]
        for pid in workers:
            self.killed_pids[pid] = "outage restart"
        self.busy.add("outage restart")
        self.down.add(name)
        fault = self._record(Fault("outage restart", name, time.monotonic(),
                                   f"down {down_s:.0f}s, {len(held)} jobs held"))
        try:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pool.pid, signal.SIGKILL)
            pool.wait(30)
            log_from = len(pool.log())
            self.pg.stop("fast")
            pool.start()
            self.down.discard(name)
            waiting = self._wait_for(lambda: "unavailable" in pool.log()[log_from:]
                                     or pool.proc is None or pool.proc.poll() is not None, 60)
            if not waiting or pool.proc is None or pool.proc.poll() is not None:
                fault.failure = "the master started during the outage did not wait for it"
            time.sleep(down_s)
        finally:
            self.pg.start()
            fault.cleared = time.monotonic()
            self.busy.discard("outage restart")
        if fault.failure:
            return fault
        self._watch(fault, lambda: pool.proc is not None and pool.proc.poll() is None
                    and all(self.job_moved_on(*ref) for ref in held) and self.at_size(name)
                    and '"Claimed job"' in pool.log()[log_from:],
                    "the master started during the outage claiming once it is over")
        return fault

    def restart_postgres(self, down_s: float = 1.0) -> Fault:
        self.busy.add("postgres restart")
        fault = self._record(Fault("postgres restart", "all", time.monotonic(),
                                   f"down {down_s:.0f}s"))
        before: dict[str, int] = {}
        self.pg.restart(down_seconds=down_s)
        fault.cleared = time.monotonic()
        self.busy.discard("postgres restart")

        def progressed() -> bool:
            try:
                now = self.done()
            except psycopg.OperationalError:
                return False
            if not before:
                before.update(now)
                return False
            return all(now[env] > before[env] for env in FAKE_ENVS) and all(
                self.at_size(name) for name in FAKE_POOLS)

        self._watch(fault, progressed, "jobs completing again in every environment")
        return fault

    def restart_redis(self, down_s: float = 3.0) -> Fault:
        """Redis stopped for down_s (and until jobs complete without it), then started."""
        self.busy.add("redis restart")
        log_from = {name: len(self.pools[name].log()) for name in FAKE_POOLS}
        fault = self._record(Fault("redis restart", "all", time.monotonic(),
                                   f"down {down_s:.0f}s"))
        done_before = sum(self.done().values())
        self.redis.stop()
        time.sleep(down_s)
        if not self._wait_for(lambda: sum(self.done().values()) > done_before + 2, 60):
            self.problems.append("no job completed in 60s while Redis was down")
        self.redis.start()
        fault.cleared = time.monotonic()
        client = redis.Redis.from_url(self.redis.url)

        def limits_back(name: str) -> bool:
            """A pool whose limiter fell back to the per-host share said it recovered. Only
            its latest master counts: one killed meanwhile never will, and the one started
            after it says so only if it fell back itself."""
            text = self.pools[name].log()[log_from[name]:]
            text = text[max(0, text.rfind('"ocrmp pool starting"')):]
            fell_back = text.rfind("rate limits now per host")
            return fell_back < 0 or "fleet-wide again" in text[fell_back:]

        def back() -> bool:
            if not all(limits_back(name) for name in FAKE_POOLS):
                return False
            try:
                keys = {key.decode() for key in client.keys("ocrmp:fleet:pool:*")}
            except redis.ConnectionError:
                return False
            return all(f"ocrmp:fleet:pool:{self.host}:{self.pools[name].name}" in keys
                       for name in FAKE_POOLS)

        # The next Redis restart waits for this one's recovery: two would blur both.
        self._watch(fault, back, "fleet-wide limits and fleet keys back in every pool",
                    then=lambda: self.busy.discard("redis restart"))
        return fault

    def memory_pressure(self, hold_s: float = 4.0) -> Fault:
        """A hog pushes the host's available share below host1's reserve, holds it there,
        then exits: host1 must shrink, claim nothing meanwhile, and grow back. Runs in the
        background; returns at once."""
        assert self.memory_reserve is not None, "memory pressure needs host1's reserve"
        self.busy.add("memory pressure")
        log_from = len(self.pools["host1"].log())
        fault = self._record(Fault("memory pressure", "host1", time.monotonic()))
        # The hog takes 256 MiB at a time (resident at once: MAP_POPULATE) until the host's
        # available share is under the reserve with a margin, or HOG_MAX: what the rest of
        # the machine does meanwhile does not matter.
        self.hog = subprocess.Popen([sys.executable, "-c", HOG, str(self.memory_reserve - 0.02),
                                     str(HOG_MAX)], stdout=subprocess.PIPE)

        def hold() -> None:
            try:
                assert self.hog is not None and self.hog.stdout is not None
                fault.detail = f"hog {int(self.hog.stdout.readline() or 0) / (1 << 30):.1f} GiB"
                shrunk = self._wait_for(lambda: SHRINK in self.pools["host1"].log()[log_from:],
                                        60)
                if not shrunk:
                    self.problems.append("host1 did not shrink under memory pressure")
                time.sleep(hold_s)
            finally:
                hog_gone = time.time()
                self.stop_hog()
            fault.cleared = time.monotonic()
            self._check_no_claims_under_pressure(log_from, hog_gone)
            # The next hog waits until host1 grew back: two would overlap and blur both.
            self._watch(fault, lambda: GROW in self.pools["host1"].log()[log_from:]
                        and self.at_size("host1"), "host1 back at size after the hog exited",
                        then=lambda: self.busy.discard("memory pressure"))

        self._thread(hold)
        return fault

    def _check_no_claims_under_pressure(self, log_from: int, hog_gone: float) -> None:
        events = parse_log(self.pools["host1"].log()[log_from:])
        shrink = next((e["ts"] for e in events if SHRINK in e["msg"]), None)
        if shrink is None:
            return
        claims = [e for e in events if e["msg"] == "Claimed job" and shrink < e["ts"] < hog_gone]
        if claims:
            self.problems.append(f"host1 claimed {len(claims)} jobs under memory pressure")

    def stop_hog(self) -> None:
        if self.hog is not None and self.hog.poll() is None:
            self.hog.kill()
            self.hog.wait(30)
        if self.hog is not None and self.hog.stdout is not None:
            self.hog.stdout.close()
        self.hog = None

    @staticmethod
    def _wait_for(check: Callable[[], bool], timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if check():
                return True
            time.sleep(0.05)
        return False

    # -- the end --------------------------------------------------------------------------

    def drain(self, timeout: float = 180.0) -> bool:
        """Stop feeding, wait for every watcher and for the queues to empty."""
        self.stop_feeding.set()
        deadline = time.monotonic() + timeout
        for thread in self.threads:
            thread.join(max(0.0, deadline - time.monotonic()))

        def empty() -> bool:
            try:
                return all(self.count(env, 3, 6) == 0 for env in self.dsns)
            except psycopg.OperationalError:
                return False
        return self._wait_for(empty, max(1.0, deadline - time.monotonic()))

    def redis_keys_without_ttl(self) -> list[str]:
        client = redis.Redis.from_url(self.redis.url)
        return [key.decode() for key in client.keys("*") if client.pttl(key) == -1]

    def stop_pools(self) -> None:
        for pool in self.pools.values():
            if pool.proc is not None and pool.proc.poll() is None:
                pool.signal(signal.SIGTERM)
        for name, pool in self.pools.items():
            if pool.proc is None:
                continue
            try:
                code = pool.wait(90)
            except subprocess.TimeoutExpired:
                self.problems.append(f"pool {name} did not stop within 90s of TERM")
                pool.kill()
                continue
            if code != 0:
                self.problems.append(f"pool {name} exited with {code} after TERM")

    def cleanup(self) -> None:
        """Whatever happened: no hog, no pool, no orphan left behind."""
        self.stop_feeding.set()
        self.stop_hog()
        for pool in self.pools.values():
            pool.kill()
        for proc in self.our_processes():
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                proc.kill()

    def our_processes(self) -> list[psutil.Process]:
        """Every process started by our pools (masters, workers, their children)."""
        run_dir = str(self.workdir / "run")
        found = []
        for proc in psutil.process_iter():
            try:
                if proc.pid != os.getpid() and proc.environ().get("OCRMP_RUN_DIR") == run_dir \
                        and proc.status() != psutil.STATUS_ZOMBIE:
                    found.append(proc)
            except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
                continue
        return found

    def verify(self) -> Report:
        """Stop the pools, then check every invariant. Call after drain()."""
        self.check_pools()
        keys = self.redis_keys_without_ttl()
        if keys:
            self.problems.append(f"Redis keys without a TTL: {keys[:10]}")
        self.stop_pools()
        # A master's resource tracker exits on its own once the master is gone: let it.
        self._wait_for(lambda: not self.our_processes(), 30)
        leftovers = [(p.pid, " ".join(p.cmdline())[:60]) for p in self.our_processes()]
        if leftovers:
            self.problems.append(f"processes left after every pool stopped: {leftovers}")
        for fault in self.faults:
            if fault.recovered is None:
                self.problems.append(f"{fault.kind} on {fault.pool} ({fault.detail}): "
                                     f"{fault.failure or 'no recovery seen'}")
        report = Report(faults=self.faults, problems=list(self.problems),
                        pool_exits=list(self.pool_exits))
        rows = {env: self._rows(env) for env in self.dsns}
        report.jobs = sum(len(r) for r in rows.values())
        report.good = len(self.good) + len(self.real_good)
        report.poison = len(self.poison)
        for env, env_rows in rows.items():
            report.stuck += [f"{env}/{job} {row['document_number']}"
                             for job, row in env_rows.items() if row["status_id"] == 6]
        history = History.read(self.pools.values(), self.host)
        for (env, job), number in self.good.items():
            self._check_good(report, history, env, job, number, rows[env].get(job))
        if self.real_ocr:
            self._check_real(report, rows["staging"])
        for (env, job), expected in self.poison.items():
            self._check_poison(report, history, env, job, expected, rows[env].get(job))
        return report

    def _check_real(self, report: Report, rows: dict[str, dict[str, Any]]) -> None:
        for job, text in self.real_good.items():
            row = rows.get(job)
            if row is None or row["status_id"] != 5:
                report.lost.append(f"staging/{job} real document: {row and row['status_id']}")
            elif cer(text, row["file_content"] or "") > 0.05:
                report.problems.append(f"staging/{job}: CER "
                                       f"{cer(text, row['file_content'] or ''):.3f}")

    def _check_poison(self, report: Report, history: History, env: str, job: str,
                      expected: Expected, row: dict[str, Any] | None) -> None:
        if row is None:
            report.problems.append(f"poison {env}/{job} ({expected}): missing")
            return
        runs = history.executions.get((env, job), [])
        # When a fault (not the document) ended the last attempt, the error names that fault.
        by_fault = bool(runs) and self._explained(history, env, job, runs[-1])
        if row["status_id"] != 4 or row["ocr_attempts"] > row["ocr_max_attempts"] or not (
                by_fault or expected.matches(row["ocr_error"])):
            report.problems.append(
                f"poison {env}/{job} ({expected}): status {row['status_id']} after "
                f"{row['ocr_attempts']}/{row['ocr_max_attempts']} attempts, "
                f"error {row['ocr_error']!r}")

    def _rows(self, env: str) -> dict[str, dict[str, Any]]:
        with psycopg.connect(self.dsns[env]) as conn, conn.cursor(
                row_factory=psycopg.rows.dict_row) as cur:
            cur.execute("SELECT id::text AS id, document_number, status_id, file_content, "
                        "ocr_worker_id, ocr_attempts, ocr_max_attempts, ocr_error "
                        "FROM extraction_queue")
            return {row["id"]: row for row in cur.fetchall()}

    def _check_good(self, report: Report, history: History, env: str, job: str, number: str,
                    row: dict[str, Any] | None) -> None:
        name = f"{env}/{job} {number}"
        runs = history.executions.get((env, job), [])
        interrupted = [run for run in runs[:-1] if self._explained(history, env, job, run)]
        for run in interrupted:
            report.extra_executions[self._why(history, env, job, run)] += 1
        if row is None or row["status_id"] in (3, 4):
            if row is not None and row["status_id"] == 4 and runs and all(
                    self._explained(history, env, job, run) for run in runs):
                report.exhausted_by_faults.append(name)
            else:
                status = None if row is None else row["status_id"]
                report.lost.append(f"{name}: status {status}, "
                                   f"{0 if row is None else row['ocr_attempts']} attempts, "
                                   f"error {None if row is None else row['ocr_error']!r}")
            return
        if row["status_id"] != 5:
            return  # 6: counted as stuck
        if row["file_content"] != f"fake text of {number}":
            report.problems.append(f"{name}: wrong text {row['file_content']!r}")
        completions = history.completions[(env, job)]
        unexplained = [run for run in runs[:-1] if run not in interrupted]
        # An attempt runs twice under one number only when a lease expiry gave it back.
        attempts = Counter(run[0] for run in runs)
        repeated = max(attempts.values(), default=1) > 1 and job not in history.given_back
        if completions > 1 or unexplained or repeated:
            report.duplicated.append(f"{name}: {completions} completions logged, executions "
                                     f"{runs}, unexplained {unexplained}")
        if not runs:
            report.problems.append(f"{name}: done but never executed according to the record")
            return
        attempt, pid, _, _ = runs[-1]
        worker = history.worker_ids.get(pid)
        if row["ocr_attempts"] != attempt or (worker and row["ocr_worker_id"] != worker):
            report.problems.append(
                f"{name}: completed by {row['ocr_worker_id']} attempt {row['ocr_attempts']}, "
                f"but the last execution was {worker or pid} attempt {attempt}")

    def _explained(self, history: History, env: str, job: str,
                   run: Run) -> bool:
        return bool(self._why(history, env, job, run))

    def _why(self, history: History, env: str, job: str, run: Run) -> str:
        """Which injected fault interrupted this execution ('' when none did)."""
        attempt, pid, _, _ = run
        if pid in self.killed_pids:
            return self.killed_pids[pid]
        why = history.interrupted.get((job, pid), "")
        # A refused outcome is a fault's doing only if the lease ran out (an outage or a
        # killed master); otherwise two executions overlapped for no reason.
        return why if why != REFUSED or job in history.rescued else ""


Run = tuple[int, int, str, int]  # one execution: attempt, worker pid, pool, started (ns)


@dataclass
class History:
    """What the pools say happened: executions (record files) and events (JSON logs)."""

    executions: dict[tuple[str, str], list[Run]]
    completions: Counter[tuple[str, str]]
    worker_ids: dict[int, str]
    interrupted: dict[tuple[str, int], str]  # (job, worker pid) -> why its write was lost
    rescued: set[str] = field(default_factory=set)  # jobs whose lease expired
    given_back: set[str] = field(default_factory=set)  # ... and got that attempt back

    @classmethod
    def read(cls, pools: Any, host: str) -> History:
        history = cls(defaultdict(list), Counter(), {}, {})
        for pool in pools:
            if pool.record.exists():
                for line in pool.record.read_text().splitlines():
                    env, job, attempt, pid, at_ns = line.split()
                    history.executions[(env, job)].append(
                        (int(attempt), int(pid), pool.name, int(at_ns)))
            if pool.log_path.exists():
                for event in parse_log(pool.log()):
                    history._note(event, host, pool.name)
        for runs in history.executions.values():
            runs.sort(key=lambda run: run[3])  # the order they started in
        return history

    def _note(self, event: dict[str, Any], host: str, pool: str) -> None:
        msg = event["msg"]
        if msg == "Job completed":
            self.completions[(event["env"], event["job_id"])] += 1
        elif msg == "Rescued job with an expired lease":
            self.rescued.add(str(event["job_id"]))
            if event.get("attempt_given_back"):
                self.given_back.add(str(event["job_id"]))
        elif msg.startswith("Started ocr-worker-"):
            self.worker_ids[int(event["pid"])] = (f"{host}/{pool}/{msg.split()[1]}."
                                                  f"{event['generation']}")
        for pattern, why in _INTERRUPTIONS:
            match = pattern.search(msg)
            if match:  # logged by the worker whose execution it was
                self.interrupted[(match.group(1), int(event["pid"]))] = why


REFUSED = "outcome refused (lease expired)"
_INTERRUPTIONS = (
    (re.compile(r"of job (\S+) attempt \d+ by \S+ refused"), REFUSED),
    (re.compile(r"gave up writing job (\S+):"), "outcome not written (database down)"),
)


def parse_log(text: str) -> list[dict[str, Any]]:
    """The JSON lines of a pool's log (anything else, e.g. a traceback, is skipped)."""
    events = []
    for line in text.splitlines():
        if line.startswith("{"):
            try:
                events.append(json.loads(line))
            except ValueError:
                continue
    return events


def memory_reserve_for_test() -> float | None:
    """A reserve the host is above now by twice the pool's margin for growing back
    (policy.capacity_target: 5 points), so that a hog of a few GiB crosses it and its exit
    lets the pool grow again. None when this host cannot spare that."""
    vm = psutil.virtual_memory()
    reserve = vm.available / vm.total - 0.10
    if vm.available - (reserve - 0.04) * vm.total > min(HOG_MAX, vm.available - (3 << 30)):
        return None
    return reserve


HOG_MAX = 6 << 30
HOG = """
import mmap, sys, time
import psutil
target, limit, chunk, held = float(sys.argv[1]), int(sys.argv[2]), 256 << 20, []
while len(held) * chunk < limit:
    vm = psutil.virtual_memory()
    if vm.available / vm.total < target:
        break
    held.append(mmap.mmap(-1, chunk, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS
                          | mmap.MAP_POPULATE))
print(len(held) * chunk, flush=True)
time.sleep(600)
"""
