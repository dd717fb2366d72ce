"""What each signal asks of the master (the table in DESIGN.md, "Signals").

The handlers the kernel calls only queue the signal (`wakeup`); the master's loop calls
`handle` once awake, and each queued signal becomes one of the master's own actions: stop
gracefully, stop now, reload and replace, resize, reopen the logs.
"""

from __future__ import annotations

import logging
import signal
from collections.abc import Callable
from typing import TYPE_CHECKING

from ocrmp import logs
from ocrmp.config import MAX_POOL_SIZE, reload
from ocrmp.pool import asks, policy
from ocrmp.pool.workerslot import Decision, Stopping
from ocrmp.vocabulary import StopReason

if TYPE_CHECKING:
    from ocrmp.pool.master import Master

log = logging.getLogger("ocrmp.master")

HANDLED = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGTTIN, signal.SIGTTOU,
           signal.SIGUSR1, signal.SIGCHLD, signal.SIGQUIT)


class SignalHandler:
    def __init__(self, master: Master) -> None:
        self.master = master
        self.actions: dict[int, Callable[[], None]] = {
            signal.SIGTERM: self.term, signal.SIGINT: self.stop_now,
            signal.SIGQUIT: self.stop_now, signal.SIGHUP: self.hup,
            signal.SIGTTIN: lambda: self.resize(1), signal.SIGTTOU: lambda: self.resize(-1),
            signal.SIGUSR1: self.usr1}

    def handle(self) -> None:
        """Act on every signal queued since the last pass, in order (SIGCHLD only wakes)."""
        queued = self.master.wakeup.signals
        while queued:
            action = self.actions.get(queued.popleft())
            if action is not None:
                action()

    def term(self) -> None:
        """A first TERM finishes running jobs; a second one is INT."""
        master = self.master
        if master.stopping:
            self.stop_now()
            return
        asked = asks.take_drain(master.settings.run_dir, master.settings.pool_name)
        drain_s = master.settings.graceful_timeout_s if asked is None else asked
        log.info("TERM: finishing running jobs (for %.0fs at most)", drain_s)
        master.begin_stop(Stopping.GRACEFUL, drain_s)

    def stop_now(self) -> None:
        master = self.master
        log.info("Stopping now: giving running jobs back to the queue")
        master.stopping = Stopping.FAST
        for state in master.live_slots():
            master.kill(Decision(state, StopReason.STOP, "pool stopping"), signal.SIGTERM)

    def hup(self) -> None:
        """Reload the configuration, hand it to every part of the master that keeps one,
        and replace the workers one by one (they run on the settings they were forked with).
        """
        master = self.master
        try:
            settings = reload(master.settings)
            master.coordination.reconfigure(settings)
        except Exception as error:  # a bad edit must not take the pool down
            log.error("HUP: configuration not reloaded: %s", error)
            return
        master.desired = policy.size_after_reload(master.desired, master.settings.size,
                                                  settings.size)
        master.settings = settings
        master.scheduler.reconfigure(settings)
        master.dispatcher.settings = settings
        master.recycler.settings = master.observer.settings = settings
        count = master.recycler.start_replacing(master.live_slots())
        log.info("HUP: configuration reloaded; replacing %d workers one by one", count)

    def usr1(self) -> None:
        """logrotate moved the log: reopen ours and tell each worker to reopen its own (to
        the worker only, not its group: a tesseract child would die of USR1)."""
        logs.reopen()
        for state in self.master.live_slots():
            self.master.processes.signal(state.pid, signal.SIGUSR1)

    def resize(self, by: int) -> None:
        """TTIN / TTOU: one worker more or less; or, for TTIN, the size `ocrmp scale` asked
        for (set or changed)."""
        master = self.master
        before = master.desired
        asked = asks.take_size(master.settings.run_dir, master.settings.pool_name, before) \
            if by > 0 else None
        wanted = before + by if asked is None else asked
        master.desired = max(1, min(MAX_POOL_SIZE, wanted))
        log.info("%s: pool size %d → %d", "scale" if asked is not None else
                 "TTIN" if by > 0 else "TTOU", before, master.desired)
