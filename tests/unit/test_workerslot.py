"""The master's process calls: a pid that names no worker is never signalled."""

from __future__ import annotations

import signal

from ocrmp.pool.workerslot import Processes


def test_no_signal_goes_to_pid_zero_or_below_which_would_be_the_masters_own_group() -> None:
    sent: list[tuple[str, int, int]] = []
    processes = Processes(killpg=lambda pid, sig: sent.append(("killpg", pid, sig)),
                          kill=lambda pid, sig: sent.append(("kill", pid, sig)))
    for pid in (0, -1):
        processes.kill_group(pid, signal.SIGKILL)
        processes.signal(pid, signal.SIGTERM)
    assert sent == []
    processes.kill_group(4321, signal.SIGKILL)
    processes.signal(4321, signal.SIGTERM)
    assert sent == [("killpg", 4321, signal.SIGKILL), ("kill", 4321, signal.SIGTERM)]
