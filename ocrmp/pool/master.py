"""The master: signals, spawn, reap, murder, manage, dispatch. One pass at a time.

Signal handlers only queue the signal; the loop wakes (set_wakeup_fd), acts on it (what each
signal asks is `signals`'), reaps dead workers, kills what must die, brings the pool to
size, and hands jobs to idle workers (`dispatch`). Which workers to recycle is `recycle`'s
to decide; what to report, `observe`'s.
"""

from __future__ import annotations

import contextlib
import logging
import os
import random
import signal
import socket
import time
from collections.abc import Callable

from ocrmp.config import MAX_POOL_SIZE, Settings
from ocrmp.exitcodes import ExitCode
from ocrmp.pool import policy
from ocrmp.pool.coordination import Coordination
from ocrmp.pool.dispatch import Dispatcher
from ocrmp.pool.doorbell import Doorbells
from ocrmp.pool.every import Every
from ocrmp.pool.observe import Observer
from ocrmp.pool.pidfile import Pidfile, pidfile_path
from ocrmp.pool.recycle import Recycler
from ocrmp.pool.signals import HANDLED, SignalHandler
from ocrmp.pool.slots import Command, Phase, SlotTable
from ocrmp.pool.wakeup import Wakeup
from ocrmp.pool.worker import WorkerContext, work
from ocrmp.pool.workerslot import Decision, Processes, SlotState, Stopping
from ocrmp.vocabulary import OPERATOR_STOPS, StopReason

log = logging.getLogger("ocrmp.master")

TABLE_CAPACITY = MAX_POOL_SIZE


class Master:
    def __init__(self, settings: Settings, *, clock: Callable[[], float] = time.monotonic,
                 processes: Processes | None = None) -> None:
        self.settings = settings
        self.clock = clock
        self.processes = processes or Processes()
        self.host = socket.gethostname()
        self.rng = random.Random()
        self.desired = settings.size
        self.stopping = Stopping.NO
        self.stop_deadline = 0.0
        self.exit_code = ExitCode.OK
        self.murdering = Every(0.1, clock=clock)  # timeouts are seconds: 100 ms is enough
        self.bells = Doorbells(TABLE_CAPACITY)
        self.slots = [SlotState(i, self.bells.slot(i)) for i in range(TABLE_CAPACITY)]
        self.table: SlotTable | None = None
        self.pidfile = Pidfile(pidfile_path(settings.run_dir, settings.pool_name))
        self.coordination = Coordination(settings)
        self.observer = Observer(settings, clock)
        self.dispatcher = Dispatcher(settings, self.slots, self._table, self.observer,
                                     self.coordination, self.host, clock, self.rng)
        self.scheduler = self.dispatcher.scheduler
        self.recycler = Recycler(settings, clock, self.rng, self.observer.metrics.set_worker_memory)
        self.wakeup = Wakeup(self.bells.master)
        self.signals = SignalHandler(self)

    # -- life of the master -----------------------------------------------------------

    def run(self, on_acquired: Callable[[], None] | None = None) -> ExitCode:
        """Run the pool until it stops; on_acquired runs once this master holds the
        pidfile (what only the pool's one master may write)."""
        self.pidfile.acquire()
        try:
            if on_acquired is not None:
                on_acquired()
            self.start()
            while not self.finished():
                self.one_pass()
        finally:
            self.shutdown()
        return self.exit_code

    def start(self) -> None:
        self.table = SlotTable.create(self.settings.pool_name, TABLE_CAPACITY)
        self.observer.serve()
        self.wakeup.install(HANDLED)
        self.observer.starting(self.desired, self.coordination)
        self.scheduler.refresh_depths(self.clock(), force=True)
        self.dispatcher.assign_initial_modes(self.desired)

    def finished(self) -> bool:
        return bool(self.stopping) and not self.live_slots()

    def one_pass(self) -> None:
        self.sleep()
        try:
            self.step()
        except Exception as error:  # the rest of this pass is lost, not the pool
            self.dispatcher.containment.contain(error, "a pass of the master")

    def step(self) -> None:
        """Everything a pass does once awake."""
        self.signals.handle()
        self.reap_workers()
        for decision in self.recycler.sample_memory(self.live_slots(), self._table()):
            self.end(decision)
        self.murder_workers()
        self.manage_workers()
        self.scheduler.retry_releases(self.clock())
        if not self.stopping:
            self.dispatcher.serve(self.recycler.memory_pressure)
            self.observer.publish(self.coordination, self.desired, self.live_slots(),
                                  self._table())
            if self.dispatcher.queue_drained():
                log.info("Queue empty and every worker idle: stopping (--until-idle)")
                self.begin_stop(Stopping.GRACEFUL)
        self.observer.report(self.desired, self.live_slots(), self.recycler.capacity,
                             self.coordination)
        self.observer.report_environments(self.scheduler.health(), self._table())

    def sleep(self) -> None:
        now = self.clock()
        timeout = max(0.0, min(self.scheduler.next_deadline() - now, 0.5))
        if self.scheduler.ready_to_claim(now) and self.dispatcher.idle_workers():
            timeout = 0.0
        self.scheduler.maintain(now)
        rang, notified = self.wakeup.wait(timeout, self.scheduler.listeners())
        self.scheduler.claim_due = self.scheduler.claim_due or rang
        for listener in notified:
            self.scheduler.notified(listener)

    # -- stopping -----------------------------------------------------------------------

    def begin_stop(self, how: Stopping, drain_s: float | None = None) -> None:
        """Stop claiming and tell every worker to leave once idle; running jobs get drain_s
        (the graceful timeout unless the operator said otherwise), then are given back."""
        self.stopping = how
        drain = self.settings.graceful_timeout_s if drain_s is None else drain_s
        self.stop_deadline = self.clock() + drain
        for state in self.live_slots():
            self.command(state, Command.DRAIN)

    # -- workers: spawn, reap, murder, manage ------------------------------------------

    def live_slots(self) -> list[SlotState]:
        return [state for state in self.slots if state.pid]

    def spawn_worker(self, state: SlotState) -> None:
        slot = self._table().slot(state.index)
        slot.phase = Phase.STARTING  # before the fork: once forked, the phase is the worker's
        signal.pthread_sigmask(signal.SIG_BLOCK, HANDLED)
        try:
            pid = self.processes.fork()
            if pid == 0:
                self._become_worker(state)
            with contextlib.suppress(PermissionError, ProcessLookupError):
                self.processes.setpgid(pid, pid)  # the child does it too: the first one wins
        finally:
            signal.pthread_sigmask(signal.SIG_UNBLOCK, HANDLED)
        state.born(pid, slot.spawned(pid), slot.jobs_done, self.recycler.jobs_limit())
        log.info("Started %s (mode: %s)", state.name, slot.mode,
                 extra={"pid": pid, "generation": state.generation})

    def _become_worker(self, state: SlotState) -> None:
        self.observer.in_child()
        master_bell, bell = self.bells.keep_for_worker(state.index)
        ctx = WorkerContext(index=state.index, name=state.name, settings=self.settings,
                            slot=self._table().slot(state.index), bell=bell,
                            master_bell=master_bell, master_pid=os.getppid(),
                            coordination=self.coordination)
        work(ctx)

    def reap_workers(self) -> None:
        while True:
            try:
                pid, status = self.processes.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            state = next((s for s in self.slots if s.pid == pid), None)
            if state is not None:
                self.worker_exited(state, os.waitstatus_to_exitcode(status))

    def worker_exited(self, state: SlotState, code: int) -> None:
        slot = self._table().slot(state.index)
        leaving = state.leaving
        reason = policy.stop_reason(code, leaving.reason if leaving else None)
        text = policy.describe_exit(code, state.why, boot_error=ExitCode.WORKER_BOOT_ERROR)
        last = slot.snapshot()  # before ended(), which marks any assignment finished
        slot.ended(code, reason, text, on_purpose=leaving is not None)
        self.processes.kill_group(state.pid, signal.SIGKILL)  # no orphan tesseract outlives it
        finished = slot.jobs_done - state.jobs_at_spawn
        expected = bool(leaving or self.stopping) and (code == 0 or state.killed is not None)
        log.log(logging.INFO if expected else logging.WARNING, "%s exited: %s", state.name,
                text, extra={"pid": state.pid, "jobs": finished})
        operator = policy.stopped_by_operator(code, leaving.reason if leaving else None)
        self.dispatcher.give_back(state, text, last, operator=operator)
        self.observer.exited(state.name, reason, state.recycled.reason if state.recycled else None)
        state.pid = 0
        if state.died(self.clock(), bool(finished or expected), self.settings):
            slot.breaker_tripped = 1
            log.error("%s tripped its breaker: died %d times in %.0fs without finishing a job;"
                      " not respawned", state.name, self.settings.breaker_failures,
                      self.settings.breaker_window_s)

    def murder_workers(self) -> None:
        """Kill workers whose heartbeat is older than the job timeout; escalate to KILL."""
        if not self.murdering.due():
            return
        now = self.clock()
        for state in self.live_slots():
            if state.killed and now >= state.kill_deadline:
                self.processes.kill_group(state.pid, signal.SIGKILL)
        for decision in self.recycler.overdue(self.live_slots(), self._table(), now):
            self.kill(decision, signal.SIGTERM)

    def end(self, decision: Decision) -> None:
        """Apply a decision to end a worker: now (hard memory limit) or after its job."""
        if decision.reason is StopReason.MEMORY_HARD:
            self.kill(decision, signal.SIGKILL)
        else:
            self.recycle(decision)

    def kill(self, decision: Decision, signum: int) -> None:
        state = decision.state
        state.killed = decision
        state.kill_deadline = self.clock() + self.settings.kill_grace_s
        ordinary = decision.reason in OPERATOR_STOPS  # asked for: no person needs to look
        log.log(logging.INFO if ordinary else logging.WARNING, "%s %s: %s",
                "Stopping" if ordinary else "Killing", state.name, decision.detail,
                extra={"pid": state.pid})
        self.processes.kill_group(state.pid, signum)

    def recycle(self, decision: Decision) -> None:
        decision.state.recycled = decision
        log.info("Recycling %s after its current job: %s", decision.state.name, decision.detail)
        shrink = decision.reason is StopReason.SHRINK
        self.command(decision.state, Command.STOP if shrink else Command.RECYCLE)

    def command(self, state: SlotState, command: Command) -> None:
        self._table().slot(state.index).command = command
        state.bell.ring()

    def manage_workers(self) -> None:
        if self.stopping:
            self._manage_stop()
            return
        size = min(self.desired, self.recycler.check_capacity(self.desired))
        table = self._table()
        for decision in (*self.recycler.shrink(self.slots, size),
                         *self.recycler.budget(self.live_slots(), table),
                         *self.recycler.replacement(self.slots, table)):
            self.recycle(decision)
        now = self.clock()
        for state in self.slots[:size]:
            if not state.pid and not state.tripped and now >= state.next_spawn_at:
                self.spawn_worker(state)
        if all(state.tripped for state in self.slots[:size]):
            log.critical("Every worker slot tripped its breaker: stopping the pool")
            self.exit_code = ExitCode.BREAKER
            self.begin_stop(Stopping.FAST)

    def _manage_stop(self) -> None:
        if self.stopping is Stopping.GRACEFUL and self.clock() >= self.stop_deadline:
            log.info("Drain time over: giving the remaining jobs back to the queue")
            self.stopping = Stopping.FAST
            for state in self.live_slots():
                self.kill(Decision(state, StopReason.STOP, "drain time over"),
                          signal.SIGTERM)

    # -- teardown -----------------------------------------------------------------------

    def shutdown(self) -> None:
        for state in self.live_slots():
            self.processes.kill_group(state.pid, signal.SIGKILL)
        self.reap_workers()
        self.scheduler.close()
        self.coordination.close()
        self.observer.close()
        if self.table is not None:
            self.table.unlink()
            self.table.close()
        self.wakeup.uninstall()
        self.bells.close()
        self.pidfile.release()
        log.info("ocrmp pool stopped", extra={"pool": self.settings.pool_name})

    def _table(self) -> SlotTable:
        assert self.table is not None, "the slot table is created in start()"
        return self.table

