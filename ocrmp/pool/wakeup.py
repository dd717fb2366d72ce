"""What the master sleeps on: queued signals, its doorbell, and the LISTEN connections.

Signal handlers only queue the signal and, through set_wakeup_fd, wake the poll; the loop
handles the queue when it wakes.
"""

from __future__ import annotations

import os
import selectors
import signal
from collections import deque
from collections.abc import Sequence
from typing import Any

from ocrmp.pool.doorbell import Doorbell
from ocrmp.pool.listener import ReadyListener

_SIGNAL, _BELL = "signal", "bell"


class Wakeup:
    def __init__(self, bell: Doorbell) -> None:
        self.bell = bell
        self.signals: deque[int] = deque()
        # poll, not epoll: an epoll registration outlives the master's close of a LISTEN socket
        # while a forked worker still holds a copy, and would then wake the loop forever.
        self.selector = selectors.PollSelector()
        self.read_fd, self.write_fd = os.pipe()
        self._previous: dict[int, Any] = {}

    def install(self, handled: Sequence[int]) -> None:
        for fd in (self.read_fd, self.write_fd):
            os.set_blocking(fd, False)
        signal.set_wakeup_fd(self.write_fd, warn_on_full_buffer=False)
        for signum in handled:
            self._previous[signum] = signal.signal(signum, self._queue)
        self.selector.register(self.read_fd, selectors.EVENT_READ, _SIGNAL)
        self.selector.register(self.bell.fileno(), selectors.EVENT_READ, _BELL)

    def _queue(self, signum: int, frame: object) -> None:
        self.signals.append(signum)  # no logging here: just queue the signal

    def wait(self, timeout: float,
             listeners: Sequence[ReadyListener]) -> tuple[bool, list[ReadyListener]]:
        """Sleep until woken or timeout; whether the bell rang, and the listeners notified."""
        self._register(listeners)
        rang, notified = False, []
        for key, _ in self.selector.select(timeout):
            if key.data == _SIGNAL:
                _drain(self.read_fd)
            elif key.data == _BELL:
                self.bell.wait(0)
                rang = True
            else:
                notified.append(key.data)
        return rang, notified

    def _register(self, listeners: Sequence[ReadyListener]) -> None:
        registered = {key.data for key in self.selector.get_map().values()}
        for listener in listeners:
            fd = listener.fileno()
            if listener not in registered and fd is not None:
                self.selector.register(fd, selectors.EVENT_READ, listener)
        for key in list(self.selector.get_map().values()):
            data = key.data
            if data not in (_SIGNAL, _BELL) and data.fileno() != key.fd:
                self.selector.unregister(key.fd)  # reconnected: the old socket is gone

    def uninstall(self) -> None:
        signal.set_wakeup_fd(-1)
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)
        self._previous.clear()
        self.selector.close()
        for fd in (self.read_fd, self.write_fd):
            os.close(fd)


def _drain(fd: int) -> None:
    try:
        while os.read(fd, 4096):
            pass
    except BlockingIOError:
        pass
