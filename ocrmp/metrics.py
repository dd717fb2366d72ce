"""Prometheus metrics of one pool, and the small HTTP server that exposes them with /healthz.

The master owns one `PoolMetrics` (its own `CollectorRegistry`, never the global one, so
two pools in one test process do not collide) and calls its methods from the loop. Queue
depth is read from PostgreSQL at scrape time, through a callable the master registers,
and cached briefly so that a burst of scrapes costs one query.

Workers never touch any of this: they are forked from the master, and a fork copies the
server's listening socket and whatever lock a scrape thread held at that instant. See
`MetricsServer.close_in_child`.
"""

from __future__ import annotations

import contextlib
import logging
import sys
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily, Metric

from ocrmp.db import redact
from ocrmp.errors import ConfigError
from ocrmp.flags import DocumentFlags
from ocrmp.store import JobStore, StatusCount
from ocrmp.vocabulary import PageFlag, Status, StopReason

if TYPE_CHECKING:
    from ocrmp.pool.scheduler import EnvHealth

log = logging.getLogger("ocrmp.metrics")

OUTCOMES = ("done", "retry", "error", "released")
RATE_LIMIT_STATES = ("redis", "local")
POOL_STATES = ("desired", "live", "busy", "idle", "capacity")
# An OCR job takes seconds to tens of minutes; a page, a fraction of a second to minutes.
JOB_BUCKETS = (0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300, 600, 1200, 1800, 3600)
PAGE_BUCKETS = (0.1, 0.25, 0.5, 1, 2, 5, 10, 20, 30, 60, 120)
QUEUE_CACHE_S = 2.0

QueueSnapshot = Callable[[], list[tuple[str, StatusCount]]]


class QueueCollector:
    """Queue depth per environment and kind, read at scrape time and cached for `ttl_s`.

    The source runs in the scrape thread: it must use connections of its own, not the
    master's. A failing source is cached like a success, so a scrape storm against a
    database that is down costs one attempt per `ttl_s`; the queue families are then
    absent and `ocrmp_queue_snapshot_ok` is 0.
    """

    def __init__(self, clock: Callable[[], float], ttl_s: float = QUEUE_CACHE_S) -> None:
        self.source: QueueSnapshot | None = None
        self._clock = clock
        self._ttl_s = ttl_s
        self._lock = threading.Lock()  # concurrent scrapes wait for one query, not N
        self._cached: list[Metric] | None = None
        self._cached_at = float("-inf")

    def describe(self) -> Iterable[Metric]:
        # Names only: registering must not query the database.
        return [*_queue_families().values(), GaugeMetricFamily("ocrmp_queue_snapshot_ok", "")]

    def collect(self) -> Iterable[Metric]:
        with self._lock:
            now = self._clock()
            if self._cached is None or now - self._cached_at >= self._ttl_s:
                self._cached = self._read()
                self._cached_at = now
            return list(self._cached)

    def _read(self) -> list[Metric]:
        if self.source is None:
            return []
        ok = GaugeMetricFamily("ocrmp_queue_snapshot_ok",
                               "1 if the last queue snapshot was read, 0 if it failed")
        try:
            rows = self.source()
        except Exception as error:  # a scrape must not fail because the database did
            log.warning("Queue metrics unavailable: %s", error)
            ok.add_metric([], 0)
            return [ok]
        ok.add_metric([], 1)
        return [*queue_families(rows), ok]


_SUMMED = (
    ("claimable", "ocrmp_queue_claimable", "Ready jobs a worker may claim now"),
    ("backoff", "ocrmp_queue_backoff", "Ready jobs waiting for their retry delay"),
    ("exhausted", "ocrmp_queue_exhausted",
     "Ready jobs out of attempts: nothing claims them until they are requeued"),
    ("stuck", "ocrmp_queue_stuck", "Running jobs whose lease expired (rescue returns them)"),
)


def _queue_families() -> dict[str, GaugeMetricFamily]:
    families = {"jobs": GaugeMetricFamily("ocrmp_queue_jobs", "Jobs in the queue by status",
                                          labels=["env", "kind", "status"])}
    for field, name, text in _SUMMED:
        families[field] = GaugeMetricFamily(name, text, labels=["env", "kind"])
    families["oldest_ready_s"] = GaugeMetricFamily(
        "ocrmp_queue_oldest_ready_seconds", "Age of the oldest ready job (0 when none)",
        labels=["env", "kind"])
    return families


def queue_families(rows: Iterable[tuple[str, StatusCount]]) -> list[Metric]:
    """The queue gauges for `JobStore.stats()` rows of each environment."""
    families = _queue_families()
    per_kind: dict[tuple[str, str], dict[str, float]] = {}
    for env, count in rows:
        kind = count.kind or "unknown"
        families["jobs"].add_metric([env, kind, Status.label_of(count.status_id)], count.total)
        sums = per_kind.setdefault((env, kind), dict.fromkeys(
            [field for field, _, _ in _SUMMED] + ["oldest_ready_s"], 0.0))
        for field, _, _ in _SUMMED:
            sums[field] += getattr(count, field)
        if count.oldest_ready_s is not None:
            sums["oldest_ready_s"] = max(sums["oldest_ready_s"], count.oldest_ready_s)
    for (env, kind), sums in sorted(per_kind.items()):
        for field, value in sums.items():
            families[field].add_metric([env, kind], value)
    return list(families.values())


class DatabaseSnapshot:
    """A queue source: `JobStore.stats()` of every environment (env -> DSN).

    Its connections are its own (the scrape thread's), opened on first use and reopened
    after a failure. All or nothing: one unreachable database fails the snapshot.
    """

    def __init__(self, environments: Mapping[str, str]) -> None:
        self.stores = {env: JobStore(dsn, env, application_name="ocrmp-metrics")
                       for env, dsn in environments.items()}

    def __call__(self) -> list[tuple[str, StatusCount]]:
        return [(env, count) for env, store in self.stores.items() for count in store.stats()]

    def close(self) -> None:
        for store in self.stores.values():
            store.close()


class PoolMetrics:
    """Everything the master reports; one registry per pool."""

    def __init__(self, registry: CollectorRegistry | None = None, *,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.registry = registry if registry is not None else CollectorRegistry()
        self._clock = clock
        self._last_beat = clock()  # a master that has not looped yet gets one stale period
        self._unreachable: dict[str, EnvHealth] = {}
        self._define_jobs()
        self._define_workers()
        self._define_pool()
        self.queue = QueueCollector(clock)
        self.registry.register(self.queue)

    def _define_jobs(self) -> None:
        r = self.registry
        self._claimed = Counter("ocrmp_jobs_claimed_total", "Jobs claimed from the queue",
                                ["env", "kind"], registry=r)
        self._jobs = Counter("ocrmp_jobs_total", "Jobs ended, by outcome: done, retry, error, "
                             "released (its worker died or the pool stopped)",
                             ["env", "kind", "outcome"], registry=r)
        self._given_back = Counter("ocrmp_jobs_given_back_total", "Jobs released because an "
                                   "operator stopped their worker (stop, restart, reload, "
                                   "scale, ^C): back to ready, their attempt not counted",
                                   ["env", "kind"], registry=r)
        self._job_seconds = Histogram("ocrmp_job_duration_seconds", "Time a worker spent on a "
                                      "job, whatever its outcome", ["kind"],
                                      buckets=JOB_BUCKETS, registry=r)
        self._page_seconds = Histogram("ocrmp_page_duration_seconds", "Time per page (a job's "
                                       "time over its pages, once per page)", ["kind"],
                                       buckets=PAGE_BUCKETS, registry=r)
        self._pages = Counter("ocrmp_pages_total", "Pages OCR'd", ["env", "kind"], registry=r)
        self._flagged = Counter("ocrmp_jobs_flagged_total", "Jobs done with at least one page "
                                "flagged for a person to check (`ocrmp review` lists them)",
                                ["env", "kind"], registry=r)
        self._flagged_by_reason = Counter(
            "ocrmp_jobs_flagged_by_reason_total", "Jobs done with at least one page flagged "
            "for this reason; a job flagged for two reasons counts under both",
            ["env", "kind", "reason"], registry=r)

    def _define_workers(self) -> None:
        r = self.registry
        self._restarts = Counter("ocrmp_worker_restarts_total", "Worker exits, by reason",
                                 ["reason"], registry=r)
        self._recycles = Counter("ocrmp_worker_recycles_total", "Workers replaced on purpose "
                                 "(memory, job budget, reload, shrink), by reason",
                                 ["reason"], registry=r)
        for reason in StopReason:  # every series exists from the start: rate() needs a 0
            self._restarts.labels(reason.value)
            self._recycles.labels(reason.value)
        self._memory = Gauge("ocrmp_worker_memory_bytes", "Memory of a worker's process tree",
                             ["worker", "kind"], registry=r)

    def _define_pool(self) -> None:
        r = self.registry
        self._pool = Gauge("ocrmp_pool_size", "Workers: desired, live, busy, idle, and the "
                           "capacity host memory allows", ["state"], registry=r)
        self._rate_waits = Counter("ocrmp_rate_limit_waits_total", "Claims deferred by the "
                                   "rate limit", ["env"], registry=r)
        self._rate_wait_seconds = Counter("ocrmp_rate_limit_wait_seconds_total",
                                          "Time claims were deferred by the rate limit",
                                          ["env"], registry=r)
        self._rate_backend = Gauge("ocrmp_rate_limit_backend", "1 for the rate limiter's "
                                   "active backend: redis, or the local fallback",
                                   ["backend"], registry=r)
        self._env_up = Gauge("ocrmp_environment_up", "1 while the pool reaches an "
                             "environment's database, 0 while it waits for it", ["env"],
                             registry=r)
        age = Gauge("ocrmp_master_heartbeat_age_seconds", "Seconds since the master loop last "
                    "ran", registry=r)
        age.set_function(self.heartbeat_age)

    # -- jobs -------------------------------------------------------------------------

    def job_claimed(self, env: str, kind: str) -> None:
        self._claimed.labels(env, kind).inc()

    def job_finished(self, env: str, kind: str, outcome: str, seconds: float,
                     pages: int) -> None:
        if outcome not in OUTCOMES:
            raise ValueError(f"outcome must be one of {', '.join(OUTCOMES)}, not {outcome!r}")
        self._jobs.labels(env, kind, outcome).inc()
        self._job_seconds.labels(kind).observe(seconds)
        if pages <= 0:
            return
        self._pages.labels(env, kind).inc(pages)
        per_page = self._page_seconds.labels(kind)
        for _ in range(pages):  # pages are streamed, not timed one by one: the mean per page
            per_page.observe(seconds / pages)

    def job_given_back(self, env: str, kind: str) -> None:
        self._given_back.labels(env, kind).inc()

    def job_flagged(self, env: str, kind: str, flags: DocumentFlags) -> None:
        """Count a done job's flags. Every series of (env, kind) exists from its first done
        job on, so rate() has a 0 to start from; reasons are the closed list of PageFlag."""
        flagged = self._flagged.labels(env, kind)
        by_reason = {reason: self._flagged_by_reason.labels(env, kind, reason.value)
                     for reason in PageFlag}
        if flags.flagged:
            flagged.inc()
        for reason in flags.reasons:
            by_reason[reason].inc()

    # -- workers ----------------------------------------------------------------------

    def worker_exited(self, reason: StopReason) -> None:
        self._restarts.labels(reason.value).inc()

    def recycled(self, reason: StopReason) -> None:
        """Count a worker replaced on purpose (memory, job budget, reload, shrink)."""
        self._recycles.labels(reason.value).inc()

    def set_worker_memory(self, worker: str, rss: int, uss: int) -> None:
        self._memory.labels(worker, "rss").set(rss)
        self._memory.labels(worker, "uss").set(uss)

    def forget_worker(self, worker: str) -> None:
        """Drop a worker's series, so a dead worker does not report its last memory forever."""
        for kind in ("rss", "uss"):
            with contextlib.suppress(KeyError):  # never reported, or already forgotten
                self._memory.remove(worker, kind)

    # -- pool, rate limit, queue ------------------------------------------------------

    def set_pool(self, desired: int, live: int, busy: int, idle: int, capacity: int) -> None:
        values = (desired, live, busy, idle, capacity)
        for state, value in zip(POOL_STATES, values, strict=True):
            self._pool.labels(state).set(value)

    def rate_limited(self, env: str, seconds: float) -> None:
        self._rate_waits.labels(env).inc()
        self._rate_wait_seconds.labels(env).inc(max(seconds, 0.0))

    def set_rate_limit_state(self, state: str) -> None:
        for backend in {*RATE_LIMIT_STATES, state}:
            self._rate_backend.labels(backend).set(1 if backend == state else 0)

    def set_queue_source(self, source: QueueSnapshot | None) -> None:
        """Where queue depth comes from; called in the scrape thread (own connections!)."""
        self.queue.source = source

    def set_environments(self, health: Mapping[str, EnvHealth]) -> None:
        for env, seen in health.items():
            self._env_up.labels(env).set(1 if seen.reachable else 0)
        self._unreachable = {env: seen for env, seen in health.items() if not seen.reachable}

    def unreachable(self) -> dict[str, EnvHealth]:
        """Environments whose database the pool is waiting for (read by /healthz)."""
        return dict(self._unreachable)

    # -- liveness ---------------------------------------------------------------------

    def heartbeat(self) -> None:
        self._last_beat = self._clock()

    def heartbeat_age(self) -> float:
        return max(0.0, self._clock() - self._last_beat)


# Connections served at once, each by its own thread. Past it a connection is closed as
# soon as accepted: whoever opens connections without end holds a few descriptors and
# threads of the master, never all of them.
MAX_CONNECTIONS = 8
READ_TIMEOUT_S = 5.0  # a client that sends no request within this is dropped


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False  # shutdown never waits for a slow client
    request_queue_size = 64  # a burst of connections waits in the kernel, not refused

    def __init__(self, address: tuple[str, int], metrics: PoolMetrics,
                 stale_after_s: float, max_connections: int = MAX_CONNECTIONS) -> None:
        super().__init__(address, _Handler)
        self.metrics = metrics
        self.stale_after_s = stale_after_s
        self.room = threading.BoundedSemaphore(max_connections)

    def process_request(self, request: Any, client_address: Any) -> None:
        if not self.room.acquire(blocking=False):
            self.shutdown_request(request)  # full: closed at once, nothing read
            return
        try:
            super().process_request(request, client_address)
        except BaseException:
            self.room.release()  # no thread started: its place is free again
            raise

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self.room.release()

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that goes away or says nothing in time is its own business; anything
        else is logged in one line."""
        error = sys.exc_info()[1]
        if not isinstance(error, OSError):  # timeouts and resets are OSErrors
            log.error("Metrics request from %s failed: %r", client_address[0], error)

    def handle_timeout(self) -> None:
        pass


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    timeout = READ_TIMEOUT_S  # the socket's: a request line or header not sent in time

    def do_GET(self) -> None:  # noqa: N802 - the name http.server dispatches to
        path = self.path.split("?", 1)[0]
        if path == "/metrics":
            self._reply(200, generate_latest(self.server.metrics.registry), CONTENT_TYPE_LATEST)
        elif path == "/healthz":
            self._healthz()
        else:
            self._reply(404, b"not found: try /metrics or /healthz\n")

    def _healthz(self) -> None:
        age = self.server.metrics.heartbeat_age()
        limit = self.server.stale_after_s
        if age < limit:
            # Still 200: the pool is alive and serves what it can; restarting it would not
            # bring a database back.
            self._reply(200, healthz_body(self.server.metrics.unreachable(), time.time()))
        else:
            text = f"stale: the master loop last ran {age:.1f}s ago (limit {limit:g}s)\n"
            self._reply(503, text.encode())

    def _reply(self, code: int, body: bytes, content_type: str = "text/plain; charset=utf-8",
               ) -> None:
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - base signature
        pass  # a scrape every few seconds is not news


def healthz_body(unreachable: Mapping[str, EnvHealth], now: float) -> bytes:
    """`ok`, or `degraded` and one line per environment whose database the pool waits for."""
    if not unreachable:
        return b"ok\n"
    lines = ["degraded"]
    for env, seen in sorted(unreachable.items()):
        since = f" for {now - seen.down_since:.0f}s" if seen.down_since else ""
        lines.append(f"environment {env} unreachable{since}: {redact(seen.error)}")
    return ("\n".join(lines) + "\n").encode()


class MetricsServer:
    """The running HTTP server: its port, and how to stop it."""

    def __init__(self, httpd: _Server) -> None:
        self._httpd = httpd
        # daemon: the master's exit is never held up by a scrape in progress.
        # A short poll keeps shutdown() quick; an idle wake-up ten times a second is free.
        self._thread = threading.Thread(target=httpd.serve_forever, name="ocrmp-metrics",
                                        kwargs={"poll_interval": 0.1}, daemon=True)
        self._thread.start()

    @property
    def host(self) -> str:
        return str(self._httpd.server_address[0])

    @property
    def port(self) -> int:
        return int(self._httpd.server_address[1])

    def shutdown(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join()

    def close_in_child(self) -> None:
        """In a forked worker: let go of the inherited listening socket, nothing more.

        The serving thread does not exist in the child, so `shutdown()` would wait for it
        forever; and a worker holding the socket would keep the port bound after its
        master died.
        """
        self._httpd.socket.close()


def serve(metrics: PoolMetrics, host: str = "127.0.0.1", port: int = 0,
          stale_after_s: float = 10, max_connections: int = MAX_CONNECTIONS) -> MetricsServer:
    """Serve /metrics and /healthz from a daemon thread; port 0 picks a free port."""
    try:
        httpd = _Server((host, port), metrics, stale_after_s, max_connections)
    except OSError as error:
        raise ConfigError(f"cannot serve metrics on {host}:{port}: {error.strerror} "
                          "(choose another --metrics-port)") from None
    return MetricsServer(httpd)

