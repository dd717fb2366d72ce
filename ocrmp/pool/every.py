"""A periodic deadline on an injected clock: the loops' timers, each one of these."""

from __future__ import annotations

import random
import time
from collections.abc import Callable


class Every:
    """Due once per interval; `jitter` spreads it (0.25: 75 % to 125 % of the interval) so
    that pools started together do not act together. Due at once when created. An interval
    read from the settings is given as a function, so a reload changes it."""

    def __init__(self, interval_s: float | Callable[[], float], jitter: float = 0.0,
                 clock: Callable[[], float] = time.monotonic,
                 rng: random.Random | None = None) -> None:
        self.interval_s = interval_s if callable(interval_s) else lambda: interval_s
        self.jitter = jitter
        self.clock = clock
        self.rng = rng or random.Random()
        self.deadline = clock()

    def due(self) -> bool:
        """True when the deadline has passed, and the next one is set."""
        now = self.clock()
        if now < self.deadline:
            return False
        spread = self.rng.uniform(1 - self.jitter, 1 + self.jitter) if self.jitter else 1.0
        self.deadline = now + self.interval_s() * spread
        return True
