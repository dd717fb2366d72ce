"""A page read in a child: its result or error comes back; at its deadline or over its
memory it is stopped, and nothing of it stays behind."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path

import psutil
import pytest

from ocrmp.ocr.bounded import Died, TimedOut, run_bounded
from ocrmp.ocr.errors import CorruptDocument

MB = 2**20


class Recorded:
    """A call that writes its process id to a file first, so the test can look for it."""

    def __init__(self, folder: Path, then: Callable[[], object]) -> None:
        self.file = folder / "pid"
        self.then = then

    def __call__(self) -> object:
        self.file.write_text(str(os.getpid()))
        return self.then()

    def gone(self) -> bool:
        """The child ran, and is neither running nor a zombie: it was reaped."""
        return not psutil.pid_exists(int(self.file.read_text()))


def test_the_result_comes_back() -> None:
    assert run_bounded(lambda: ("page", os.getpid()), timeout_s=30, memory_bytes=64 * MB)[1] \
        != os.getpid()


def test_an_error_raised_in_the_child_is_raised_here_with_its_kind() -> None:
    def fail() -> None:
        raise CorruptDocument("c.pdf", "page 2: bad xref")

    with pytest.raises(CorruptDocument) as info:
        run_bounded(fail, timeout_s=30, memory_bytes=64 * MB)
    assert info.value.source == "c.pdf" and info.value.detail == "page 2: bad xref"


def test_a_child_running_past_its_deadline_is_killed_and_reaped(tmp_path: Path) -> None:
    call = Recorded(tmp_path, lambda: time.sleep(3600))
    with pytest.raises(TimedOut):
        run_bounded(call, timeout_s=1, memory_bytes=64 * MB)
    assert call.gone()


def test_a_child_allocating_past_its_cap_dies_not_the_caller(tmp_path: Path) -> None:
    call = Recorded(tmp_path, lambda: bytearray(512 * MB))
    with pytest.raises(Died):
        run_bounded(call, timeout_s=30, memory_bytes=64 * MB)
    assert call.gone()


def test_a_child_that_exits_without_a_result_is_said_so() -> None:
    with pytest.raises(Died, match="exit 3 without a result"):
        run_bounded(lambda: os._exit(3), timeout_s=30, memory_bytes=64 * MB)
