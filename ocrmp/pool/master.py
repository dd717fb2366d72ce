"""The master: signals, spawn, reap, murder, manage, dispatch. One pass at a time.

Signal handlers only queue the signal; the loop wakes (set_wakeup_fd), handles it, reaps
dead workers, kills what must die, brings the pool to size, and hands jobs to idle workers.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import random
import selectors
import signal
import socket
import time
from collections import deque
from dataclasses import dataclass, field

from ocrmp import __version__, logs
from ocrmp.config import MAX_POOL_SIZE, Settings
from ocrmp.exitcodes import ExitCode
from ocrmp.fleet import WorkerInfo
from ocrmp.pool import policy
from ocrmp.pool.coordination import Coordination
from ocrmp.pool.doorbell import Doorbell, Doorbells
from ocrmp.pool.memory import host_memory, tree_memory
from ocrmp.pool.observe import Observer
from ocrmp.pool.pidfile import Pidfile, pidfile_path
from ocrmp.pool.scheduler import IdleWorker, Scheduler
from ocrmp.pool.slots import Command, Environment, Mode, Phase, SlotSnapshot, SlotTable
from ocrmp.pool.worker import WorkerContext, work
from ocrmp.store import Job

log = logging.getLogger("ocrmp.master")

HANDLED = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGTTIN, signal.SIGTTOU,
           signal.SIGUSR1, signal.SIGCHLD, signal.SIGQUIT)
MODES = {Mode.INDEX: "index", Mode.ACTE: "acte"}
MODE_OF = {"index": Mode.INDEX, "acte": Mode.ACTE}
ENV_IDS = {"dev": Environment.DEV, "staging": Environment.STAGING, "prod": Environment.PROD}
TABLE_CAPACITY = MAX_POOL_SIZE


@dataclass
class SlotState:
    """What the master remembers of a slot between passes."""

    index: int
    bell: Doorbell
    pid: int = 0
    generation: int = 0
    jobs_at_spawn: int = 0
    jobs_limit: int = 0
    next_spawn_at: float = 0.0
    deaths: deque[float] = field(default_factory=lambda: deque(maxlen=32))
    consecutive_deaths: int = 0
    tripped: bool = False
    kill_reason: str = ""
    kill_deadline: float = 0.0
    recycle_reason: str = ""
    job: Job | None = None
    job_seq: int = 0

    @property
    def name(self) -> str:
        return f"ocr-worker-{self.index + 1}"

    def worker_id(self, host: str, pool: str) -> str:
        return f"{host}/{pool}/{self.name}.{self.generation}"


class Master:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.host = socket.gethostname()
        self.rng = random.Random()
        self.signals: deque[int] = deque()
        self.desired = settings.size
        self.capacity = settings.size
        self.stopping = ""  # "", "graceful" or "fast"
        self.stop_deadline = 0.0
        self.replacing: deque[int] = deque()
        self.exit_code = ExitCode.OK
        self.next_sample = 0.0
        self.next_capacity_check = 0.0
        self.next_murder = 0.0
        self.next_report = 0.0
        self.memory_pressure = False
        self.snaps: dict[int, SlotSnapshot] = {}
        self.next_rebalance = 0.0
        self.mode_target: dict[str, int] = {}
        self.bells = Doorbells(TABLE_CAPACITY)
        self.master_bell = self.bells.master
        self.slots = [SlotState(i, self.bells.slot(i)) for i in range(TABLE_CAPACITY)]
        self.table: SlotTable | None = None
        self.pidfile = Pidfile(pidfile_path(settings.run_dir, settings.pool_name))
        self.coordination = Coordination(settings)
        self.scheduler = Scheduler(settings, self.rng, allow=self.allow_jobs)
        self.observer: Observer | None = None
        # poll, not epoll: an epoll registration outlives the master's close of a LISTEN socket
        # while a forked worker still holds a copy, and would then wake the loop forever.
        self.selector = selectors.PollSelector()
        self.wakeup_r, self.wakeup_w = os.pipe()

    # -- life of the master -----------------------------------------------------------

    def run(self) -> ExitCode:
        self.pidfile.acquire()
        try:
            self.start()
            while not self.finished():
                self.one_pass()
        finally:
            self.shutdown()
        return self.exit_code

    def start(self) -> None:
        self.table = SlotTable.create(self.settings.pool_name, TABLE_CAPACITY)
        self.observer = Observer(self.settings)
        for fd in (self.wakeup_r, self.wakeup_w):
            os.set_blocking(fd, False)
        signal.set_wakeup_fd(self.wakeup_w, warn_on_full_buffer=False)
        for signum in HANDLED:
            signal.signal(signum, self._queue_signal)
        self.selector.register(self.wakeup_r, selectors.EVENT_READ, "signal")
        self.selector.register(self.master_bell.fileno(), selectors.EVENT_READ, "bell")
        log.info("ocrmp pool starting", extra={
            "pool": self.settings.pool_name, "version": __version__, "size": self.desired,
            "environments": ",".join(self.settings.environments),
            "engine": self.settings.runner or self.settings.ocr.engine, "pid": os.getpid(),
            "rate_limits": ",".join(f"{env}={rate}" for env, rate in
                                    self.coordination.describe_limits().items()) or "none",
            "redis": "yes" if self.settings.redis_url else "no"})
        self.scheduler.refresh_depths(time.monotonic(), force=True)
        self.assign_initial_modes()

    def _queue_signal(self, signum: int, frame: object) -> None:
        self.signals.append(signum)  # no logging here: just queue the signal

    def finished(self) -> bool:
        return bool(self.stopping) and not any(state.pid for state in self.slots)

    def one_pass(self) -> None:
        self.sleep()
        self.snaps.clear()
        now = time.monotonic()
        self.handle_signals()
        self.reap_workers()
        self.sample_memory(now)
        self.murder_workers(now)
        self.manage_workers(now)
        if not self.stopping:
            self._collect_finished()  # first: a worker that just finished is idle for rebalance
            self.rebalance(now)
            self.dispatch(now)
            self.scheduler.renew(now, self.inflight())
            self.scheduler.rescue(now)
            self.publish(now)
            self.check_idle_exit()
        self.report(now)

    def sleep(self) -> None:
        timeout = max(0.0, min(self.scheduler.next_deadline() - time.monotonic(), 0.5))
        if self.scheduler.ready_to_claim(time.monotonic()) and self.idle_workers():
            timeout = 0.0
        self._register_listeners()
        for key, _ in self.selector.select(timeout):
            if key.data == "signal":
                self._drain_fd(self.wakeup_r)
            elif key.data == "bell":
                self.master_bell.wait(0)
                self.scheduler.claim_due = True
            else:
                self.scheduler.notified(key.data)

    def _register_listeners(self) -> None:
        self.scheduler.maintain(time.monotonic())
        registered = {key.data for key in self.selector.get_map().values()}
        for listener in self.scheduler.listeners():
            fd = listener.fileno()
            if listener not in registered and fd is not None:
                self.selector.register(fd, selectors.EVENT_READ, listener)
        for key in list(self.selector.get_map().values()):
            data = key.data
            if data not in ("signal", "bell") and data.fileno() != key.fd:
                self.selector.unregister(key.fd)

    @staticmethod
    def _drain_fd(fd: int) -> None:
        try:
            while os.read(fd, 4096):
                pass
        except BlockingIOError:
            pass

    # -- signals ----------------------------------------------------------------------

    def handle_signals(self) -> None:
        while self.signals:
            signum = self.signals.popleft()
            handler = {
                signal.SIGTERM: self.handle_term, signal.SIGINT: self.handle_int,
                signal.SIGQUIT: self.handle_int, signal.SIGHUP: self.handle_hup,
                signal.SIGTTIN: self.handle_ttin, signal.SIGTTOU: self.handle_ttou,
                signal.SIGUSR1: self.handle_usr1,
            }.get(signal.Signals(signum))
            if handler is not None:
                handler()

    def handle_term(self) -> None:
        if self.stopping:
            self.handle_int()
            return
        log.info("TERM: finishing running jobs (graceful timeout %.0fs)",
                 self.settings.graceful_timeout_s)
        self.begin_stop("graceful")

    def handle_int(self) -> None:
        log.info("Stopping now: releasing running jobs")
        self.stopping = "fast"
        for state in self.live_slots():
            self.kill(state, "pool stopping", signal.SIGTERM)

    def handle_hup(self) -> None:
        from ocrmp.config import reload

        try:
            settings = reload(self.settings)
            self.coordination.reconfigure(settings)
        except Exception as error:  # a bad edit must not take the pool down
            log.error("HUP: configuration not reloaded: %s", error)
            return
        self.settings = settings
        self.desired = self.settings.size
        self.scheduler.reconfigure(self.settings)
        self.replacing = deque(state.index for state in self.live_slots())
        log.info("HUP: configuration reloaded; replacing %d workers one by one",
                 len(self.replacing))

    def handle_usr1(self) -> None:
        """logrotate moved the log: reopen ours and tell each worker to reopen its own (to
        the worker only, not its group: a tesseract child would die of USR1)."""
        logs.reopen()
        for state in self.live_slots():
            with contextlib.suppress(ProcessLookupError):
                os.kill(state.pid, signal.SIGUSR1)

    def handle_ttin(self) -> None:
        self.desired = min(TABLE_CAPACITY, self.desired + 1)
        log.info("TTIN: pool size %d", self.desired)

    def handle_ttou(self) -> None:
        self.desired = max(1, self.desired - 1)
        log.info("TTOU: pool size %d", self.desired)

    def begin_stop(self, how: str) -> None:
        self.stopping = how
        self.stop_deadline = time.monotonic() + self.settings.graceful_timeout_s
        for state in self.live_slots():
            self.command(state, Command.DRAIN)

    # -- workers: spawn, reap, murder, manage ------------------------------------------

    def live_slots(self) -> list[SlotState]:
        return [state for state in self.slots if state.pid]

    def spawn_worker(self, state: SlotState) -> None:
        table = self._table()
        slot = table.slot(state.index)
        mode = slot.mode
        slot.phase = Phase.STARTING  # before the fork: once forked, the phase is the worker's
        signal.pthread_sigmask(signal.SIG_BLOCK, HANDLED)
        try:
            pid = os.fork()
            if pid == 0:
                self._become_worker(state)
            with contextlib.suppress(PermissionError, ProcessLookupError):
                os.setpgid(pid, pid)  # also done by the child: whichever runs first wins
        finally:
            signal.pthread_sigmask(signal.SIG_UNBLOCK, HANDLED)
        state.pid = pid
        state.generation = slot.spawned(pid)
        state.jobs_at_spawn = slot.jobs_done
        state.jobs_limit = policy.jobs_limit(self.settings.max_jobs_per_worker,
                                             self.settings.max_jobs_jitter, self.rng)
        state.kill_reason = state.recycle_reason = ""
        log.info("Started %s (mode: %s)", state.name, MODES[mode],
                 extra={"pid": pid, "generation": state.generation})

    def _become_worker(self, state: SlotState) -> None:
        self._observer().in_child()
        master_bell, bell = self.bells.keep_for_worker(state.index)
        ctx = WorkerContext(index=state.index, name=state.name, settings=self.settings,
                            slot=self._table().slot(state.index), bell=bell,
                            master_bell=master_bell, master_pid=os.getppid(),
                            coordination=self.coordination)
        work(ctx)

    def reap_workers(self) -> None:
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            state = next((s for s in self.slots if s.pid == pid), None)
            if state is not None:
                self.worker_exited(state, status)

    def worker_exited(self, state: SlotState, status: int) -> None:
        slot = self._table().slot(state.index)
        reason = describe_exit(status, state.kill_reason or state.recycle_reason)
        code = os.waitstatus_to_exitcode(status)
        slot.record_exit(max(code, 0), max(-code, 0), reason)
        slot.phase = Phase.DEAD
        _kill_group(state.pid, signal.SIGKILL)  # no orphan tesseract outlives its worker
        finished = slot.jobs_done - state.jobs_at_spawn
        expected = bool(state.kill_reason or state.recycle_reason or self.stopping) and (
            code == 0 or state.kill_reason != "")
        level = logging.INFO if expected else logging.WARNING
        log.log(level, "%s exited: %s", state.name, reason,
                extra={"pid": state.pid, "jobs": finished})
        self._release_job(state, reason)
        # Between two lives the slot's worker fields are the master's: mark any assignment as
        # finished, so the next worker does not start a job that was just given back.
        slot.taken_seq = slot.done_seq = slot.assign_seq
        self._observer().exited(state.name, reason, state.recycle_reason)
        if state.recycle_reason or state.kill_reason:
            slot.recycles = slot.recycles + 1
        slot.restarts = slot.restarts + 1
        state.pid = 0
        self._count_death(state, finished, expected, time.monotonic())

    def _release_job(self, state: SlotState, reason: str) -> None:
        job, seq = state.job, state.job_seq
        state.job = None
        if job is None:
            return
        snap = self._table().snapshot(state.index)
        if snap.done_seq >= seq:
            return  # the worker finished it before exiting
        started = snap.taken_seq >= seq
        self.scheduler.release(job, f"{state.name} died: {reason}", started=started)
        self._observer().released(state.index, job)

    def _count_death(self, state: SlotState, finished: int, expected: bool, now: float) -> None:
        if finished or expected:
            state.consecutive_deaths = 0
            state.next_spawn_at = now
            return
        state.consecutive_deaths += 1
        state.deaths.append(now)
        state.next_spawn_at = now + policy.respawn_delay(state.consecutive_deaths)
        if policy.breaker_tripped(state.deaths, now, self.settings.breaker_failures,
                                  self.settings.breaker_window_s):
            state.tripped = True
            self._table().slot(state.index).breaker_tripped = 1
            log.error("%s tripped its breaker: died %d times in %.0fs without finishing a job;"
                      " not respawned", state.name, self.settings.breaker_failures,
                      self.settings.breaker_window_s)

    def sample_memory(self, now: float) -> None:
        if now < self.next_sample:
            return
        self.next_sample = now + 1.0
        for state in self.live_slots():
            usage = tree_memory(state.pid)
            if usage is None:
                continue
            self._table().slot(state.index).update(memory_rss=usage.rss, memory_uss=usage.uss)
            self._observer().metrics.set_worker_memory(state.name, usage.rss, usage.uss)
            verdict = policy.memory_verdict(usage.rss, self.settings.max_memory,
                                            self.settings.hard_memory_limit)
            if verdict.action == "kill" and not state.kill_reason:
                self.kill(state, verdict.reason, signal.SIGKILL)
            elif verdict.action == "recycle" and not state.recycle_reason:
                self.recycle(state, verdict.reason)

    def murder_workers(self, now: float) -> None:
        """Kill workers whose heartbeat is older than the job timeout; escalate to KILL.
        Timeouts are seconds long: a look every 100 ms is enough, not one per job."""
        if now < self.next_murder:
            return
        self.next_murder = now + 0.1
        for state in self.live_slots():
            if state.kill_reason:
                if now >= state.kill_deadline:
                    _kill_group(state.pid, signal.SIGKILL)
                continue
            snap = self.snap(state.index)
            if snap.phase != Phase.BUSY:
                continue
            silent_s = (time.monotonic_ns() - snap.heartbeat_ns) / 1e9
            if silent_s > self.settings.job_timeout_s:
                self.kill(state, f"job timeout: no progress for {silent_s:.0f}s",
                          signal.SIGTERM)

    def kill(self, state: SlotState, reason: str, signum: int) -> None:
        state.kill_reason = reason
        state.kill_deadline = time.monotonic() + self.settings.kill_grace_s
        log.warning("Killing %s: %s", state.name, reason, extra={"pid": state.pid})
        _kill_group(state.pid, signum)

    def recycle(self, state: SlotState, reason: str) -> None:
        state.recycle_reason = f"recycled: {reason}"
        log.info("Recycling %s after its current job: %s", state.name, reason)
        self.command(state, Command.RECYCLE)

    def command(self, state: SlotState, command: Command) -> None:
        self._table().slot(state.index).command = command
        self.snaps.pop(state.index, None)
        state.bell.ring()

    def manage_workers(self, now: float) -> None:
        if self.stopping:
            self._manage_stop(now)
            return
        self._manage_capacity()
        size = min(self.desired, self.capacity)
        for state in self.slots[size:]:
            if state.pid and not state.recycle_reason:
                state.recycle_reason = "pool shrunk"
                self.command(state, Command.STOP)
        self._manage_budget()
        self._manage_replacement()
        for state in self.slots[:size]:
            if not state.pid and not state.tripped and now >= state.next_spawn_at:
                self.spawn_worker(state)
        if all(state.tripped for state in self.slots[:size]):
            log.critical("Every worker slot tripped its breaker: stopping the pool")
            self.exit_code = ExitCode.BREAKER
            self.begin_stop("fast")

    def _manage_stop(self, now: float) -> None:
        if self.stopping == "graceful" and now >= self.stop_deadline:
            log.warning("Graceful timeout reached: releasing the remaining jobs")
            self.stopping = "fast"
            for state in self.live_slots():
                self.kill(state, "graceful timeout reached", signal.SIGTERM)

    def _manage_capacity(self) -> None:
        now = time.monotonic()
        if now < self.next_capacity_check:
            return
        self.next_capacity_check = now + 1.0
        memory = host_memory()
        self.memory_pressure = memory.share_available < self.settings.memory_reserve
        target = policy.capacity_target(self.desired, self.capacity, memory.available,
                                        memory.total, self.settings.memory_reserve)
        if target != self.capacity:
            log.warning("Host memory %.0f%% available (reserve %.0f%%): pool size %d → %d",
                        100 * memory.share_available, 100 * self.settings.memory_reserve,
                        self.capacity, target)
            self.capacity = target

    def _manage_budget(self) -> None:
        for state in self.live_slots():
            if state.jobs_limit and not state.recycle_reason:
                done = self._table().slot(state.index).jobs_done - state.jobs_at_spawn
                if done >= state.jobs_limit:
                    self.recycle(state, f"{done} jobs done (limit {state.jobs_limit})")

    def _manage_replacement(self) -> None:
        """HUP: one worker at a time gets RECYCLE; the next goes when the last is back."""
        if not self.replacing:
            return
        if any(state.recycle_reason == "recycled: reload" for state in self.live_slots()):
            return
        if any(self._table().slot(s.index).phase == Phase.STARTING for s in self.live_slots()):
            return
        state = self.slots[self.replacing.popleft()]
        if state.pid:
            state.recycle_reason = "recycled: reload"
            self.command(state, Command.RECYCLE)

    # -- modes and dispatch -------------------------------------------------------------

    def assign_initial_modes(self) -> None:
        target = policy.allocate_modes(self.desired, self.scheduler.depths(),
                                       self.settings.min_index, self.settings.min_acte)
        modes = ["index"] * target["index"] + ["acte"] * target["acte"]
        for index, mode in enumerate(modes):
            self._table().slot(index).mode = MODE_OF[mode]
        for index in range(len(modes), TABLE_CAPACITY):
            self._table().slot(index).mode = Mode.ACTE if index % 2 else Mode.INDEX

    def rebalance(self, now: float) -> None:
        """Recompute the target allocation of modes every interval; switch idle workers to
        it on every pass (a busy worker switches when it next becomes idle)."""
        if now >= self.next_rebalance:
            self.next_rebalance = now + self.settings.rebalance_interval_s
            depths = self.scheduler.refresh_depths(now)
            current = self._mode_counts()
            self.mode_target = policy.allocate_modes(
                sum(current.values()), depths, self.settings.min_index, self.settings.min_acte,
                current)
        live = [(s.index, MODES[self.snap(s.index).mode], self._is_idle(s))
                for s in self.live_slots()]
        if not self.mode_target or sum(self.mode_target.values()) != len(live):
            return
        for index, mode in policy.plan_switches(live, self.mode_target):
            state = self.slots[index]
            log.info("%s mode %s → %s", state.name, MODES[self._table().slot(index).mode], mode)
            self._table().slot(index).mode = MODE_OF[mode]
            self.snaps.pop(index, None)

    def _mode_counts(self) -> dict[str, int]:
        modes = [MODES[self._table().slot(s.index).mode] for s in self.live_slots()]
        return {kind: modes.count(kind) for kind in policy.KINDS}

    def _is_idle(self, state: SlotState) -> bool:
        if not state.pid or state.kill_reason or state.recycle_reason or state.job is not None:
            return False
        snap = self.snap(state.index)
        return snap.phase == Phase.IDLE and snap.command == Command.NONE

    def idle_workers(self) -> list[IdleWorker]:
        return [IdleWorker(s.index, s.worker_id(self.host, self.settings.pool_name),
                           MODES[self.snap(s.index).mode])
                for s in self.live_slots() if self._is_idle(s)]

    def dispatch(self, now: float) -> None:
        if self.memory_pressure:
            return  # under the memory reserve: claim nothing until memory returns
        for worker, job in self.scheduler.claim(now, self.idle_workers()):
            self.hand_over(self.slots[worker.slot], job)

    def _collect_finished(self) -> None:
        for state in self.live_slots():
            job = state.job
            if job is not None and self.snap(state.index).done_seq >= state.job_seq:
                state.job = None
                self._observer().finished(state.index, job, self.snap(state.index))

    def hand_over(self, state: SlotState, job: Job) -> None:
        payload = json.dumps({"id": job.id, "kind": job.kind, "path": job.supabase_path,
                              "worker_id": job.worker_id, "env": job.env,
                              "max_attempts": job.max_attempts})
        seq = self._table().slot(state.index).assign(
            env=ENV_IDS[job.env], attempt=job.attempt, kind=MODE_OF.get(job.kind, 2),
            document_number=job.document_number, payload=payload)
        state.job, state.job_seq = job, seq
        self._observer().handed_over(state.index, job, self.snap(state.index))
        self.snaps.pop(state.index, None)
        state.bell.ring()
        log.info("Claimed job", extra={"worker": state.name, "job_id": job.id, "env": job.env,
                                       "document_number": job.document_number,
                                       "attempt": job.attempt})

    def allow_jobs(self, env: str, wanted: int) -> tuple[int, float]:
        allowed, retry_in = self.coordination.allow_jobs(env, wanted)
        if allowed < wanted:
            self._observer().metrics.rate_limited(env, retry_in)
        return allowed, retry_in

    def report(self, now: float) -> None:
        """Pool gauges for the metrics endpoint, and proof the loop is alive (/healthz),
        refreshed every 100 ms rather than on every pass."""
        if now < self.next_report:
            return
        self.next_report = now + 0.1
        metrics = self._observer().metrics
        metrics.heartbeat()
        live = self.live_slots()
        busy = sum(1 for s in live if s.job is not None)
        metrics.set_pool(self.desired, len(live), busy, len(live) - busy, self.capacity)
        metrics.set_rate_limit_state(self.coordination.limiter_state)

    def _observer(self) -> Observer:
        assert self.observer is not None, "the observer is created in start()"
        return self.observer

    def publish(self, now: float) -> None:
        """Tell the fleet (Redis, keys with a TTL) who we are and what each worker does."""
        self.coordination.maintain()
        if self.coordination.registry is None or now < self.coordination.next_publish:
            return
        workers = []
        modes = {"index": 0, "acte": 0}
        for state in self.live_slots():
            snap = self._table().snapshot(state.index)
            mode = MODES[snap.mode]
            modes[mode] += 1
            job = state.job
            workers.append(WorkerInfo(
                slot=state.index, pid=state.pid, mode=mode, phase=snap.phase.name.lower(),
                job_id=job.id if job else None, job_env=job.env if job else None,
                document_number=job.document_number if job else None,
                jobs_done=snap.jobs_done, memory_bytes=snap.memory_rss))
        self.coordination.publish(now, self.desired, modes, workers)

    def inflight(self) -> list[Job]:
        return [state.job for state in self.slots if state.job is not None]

    def check_idle_exit(self) -> None:
        """--until-idle: stop once nothing is claimable and every worker is idle."""
        if not self.settings.until_idle or self.inflight():
            return
        live = self.live_slots()
        if not live or len(self.idle_workers()) < len(live):
            return
        if not self.scheduler.last_claim_empty:
            return
        depths = self.scheduler.refresh_depths(time.monotonic(), force=True)
        if sum(depths.values()) == 0:
            log.info("Queue empty and every worker idle: stopping (--until-idle)")
            self.begin_stop("graceful")

    # -- teardown -----------------------------------------------------------------------

    def shutdown(self) -> None:
        for state in self.live_slots():
            _kill_group(state.pid, signal.SIGKILL)
        self.reap_workers()
        self.scheduler.close()
        self.coordination.close()
        if self.observer is not None:
            self.observer.close()
        if self.table is not None:
            self.table.unlink()
            self.table.close()
        signal.set_wakeup_fd(-1)
        self.pidfile.release()
        log.info("ocrmp pool stopped", extra={"pool": self.settings.pool_name})

    def snap(self, index: int) -> SlotSnapshot:
        """The slot as read once in this pass (the master's own writes drop the copy)."""
        if index not in self.snaps:
            self.snaps[index] = self._table().snapshot(index)
        return self.snaps[index]

    def _table(self) -> SlotTable:
        assert self.table is not None, "the slot table is created in start()"
        return self.table


def describe_exit(status: int, reason: str) -> str:
    """Why a worker ended, in words: exit code or signal; SIGKILL suggests the OOM killer."""
    code = os.waitstatus_to_exitcode(status)
    if code >= 0:
        text = f"exit code {code}"
        if code == ExitCode.WORKER_BOOT_ERROR:
            text += " (could not boot)"
    else:
        name = signal.Signals(-code).name
        text = f"killed by {name}"
        if -code == signal.SIGKILL and not reason:
            text += " (perhaps out of memory)"
    return f"{text}; {reason}" if reason else text


def _kill_group(pgid: int, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signum)
