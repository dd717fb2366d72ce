"""The overview as a snapshot shared by every viewer, taken again in the background once
it is older than its age limit.

The overview's counts read the whole queue (a few hundred milliseconds on a million rows):
each browser polling every few seconds would run them again and again. Here they run at
most once per age limit, whatever the number of viewers, and a request never waits for
them but the first: it gets the last snapshot, at most the age limit plus one taking old.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")
log = logging.getLogger("ocrmp.web")


class Snapshot(Generic[T]):
    def __init__(self, take: Callable[[], T], max_age_s: float) -> None:
        self._take = take
        self.max_age_s = max_age_s
        self._value: T | None = None
        self._taken_at = 0.0
        self._lock = threading.Lock()
        self._taking = False

    def get(self) -> T:
        """The last snapshot; taken now when there is none yet, else again in the
        background when it is too old."""
        with self._lock:
            value, stale = self._value, time.monotonic() - self._taken_at > self.max_age_s
            start = stale and not self._taking and value is not None
            if start:
                self._taking = True
        if value is None:
            return self._refresh()
        if start:
            threading.Thread(target=self._refresh_quietly, daemon=True,
                             name="ocrmp-web-snapshot").start()
        return value

    def _refresh(self) -> T:
        value = self._take()
        with self._lock:
            self._value, self._taken_at, self._taking = value, time.monotonic(), False
        return value

    def _refresh_quietly(self) -> None:
        try:
            self._refresh()
        except Exception:  # the next request tries again; the page shows the last one
            log.exception("overview snapshot failed")
            with self._lock:
                self._taking = False
