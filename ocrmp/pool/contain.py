"""Unforeseen errors of the master's pass: contained, logged, and the pool goes on.

A master that dies on one bad row or one bug strands every job in flight until their
leases expire, and a supervisor restarting it meets the same row again. So an error the
code did not foresee ends only what caused it (the job being handed over; the rest of
that pass), its traceback is logged the first time and a line at most once a minute
after that, and the next pass runs as usual.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

log = logging.getLogger("ocrmp.master")
REPEAT_EVERY_S = 60.0


class Containment:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self.last_logged: dict[str, float] = {}  # kind of error: when it was last logged
        self.count = 0

    def contain(self, error: Exception, doing: str) -> None:
        self.count += 1
        kind = type(error).__name__
        now = self.clock()
        last = self.last_logged.get(kind)
        if last is None:
            log.error("Error while %s (contained: the pool goes on)", doing,
                      exc_info=(type(error), error, error.__traceback__))
        elif now - last >= REPEAT_EVERY_S:
            log.error("Error while %s again: %r", doing, error)
        else:
            return
        self.last_logged[kind] = now
