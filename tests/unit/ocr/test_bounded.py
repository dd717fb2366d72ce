"""A page read in a child: its result or error comes back; at its deadline or over its
memory it is stopped, and nothing of it stays behind."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path

import psutil
import pytest

from ocrmp.ocr.bounded import Died, TimedOut, run_each
from ocrmp.ocr.errors import CorruptDocument

MB = 2**20


def run_bounded(call: Callable[[], object], *, timeout_s: float, memory_bytes: int) -> object:
    """One call in a child: its result, or what stopped it raised here."""
    (outcome,) = run_each([call], budget=lambda: timeout_s, memory_bytes=memory_bytes,
                          max_bytes=0)
    if isinstance(outcome, BaseException):
        raise outcome
    return outcome


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


def test_calls_run_in_order_in_one_child_and_their_outcomes_come_back() -> None:
    outcomes = run_each([lambda: ("a", os.getpid()), lambda: ("b", os.getpid())],
                        budget=lambda: 30, memory_bytes=64 * MB, max_bytes=64 * MB)
    assert [name for name, _ in outcomes] == ["a", "b"]  # type: ignore[misc]
    assert len({pid for _, pid in outcomes}) == 1  # type: ignore[misc]
    assert os.getpid() not in {pid for _, pid in outcomes}  # type: ignore[misc]


def test_a_child_stops_once_its_results_hold_the_bytes_it_may_hold() -> None:
    outcomes = run_each([lambda: bytes(MB)] * 5, budget=lambda: 30, memory_bytes=64 * MB,
                        max_bytes=2 * MB)
    assert len(outcomes) == 2 and all(len(o) == MB for o in outcomes)  # type: ignore[arg-type]


def test_each_call_has_its_own_deadline_and_the_one_past_it_is_named(tmp_path: Path) -> None:
    stuck = Recorded(tmp_path, lambda: time.sleep(3600))
    calls = [lambda: time.sleep(0.4), lambda: time.sleep(0.4), stuck, lambda: "never"]
    outcomes = run_each(calls, budget=lambda: 1.0, memory_bytes=64 * MB, max_bytes=64 * MB)
    assert outcomes[:2] == [None, None]  # 0.8 s in all: past one budget, within each
    assert len(outcomes) == 3 and isinstance(outcomes[2], TimedOut)
    assert outcomes[2].seconds == 1.0 and stuck.gone()


def test_an_error_ends_the_run_and_the_calls_after_it_are_not_made() -> None:
    def fail() -> None:
        raise CorruptDocument("c.pdf", "page 2: bad xref")

    outcomes = run_each([lambda: 1, fail, lambda: 3], budget=lambda: 30,
                        memory_bytes=64 * MB, max_bytes=64 * MB)
    assert outcomes[0] == 1 and len(outcomes) == 2
    assert isinstance(outcomes[1], CorruptDocument)


def test_a_child_dying_on_a_call_keeps_the_outcomes_before_it(tmp_path: Path) -> None:
    hungry = Recorded(tmp_path, lambda: bytearray(512 * MB))
    outcomes = run_each([lambda: 1, hungry], budget=lambda: 30, memory_bytes=64 * MB,
                        max_bytes=64 * MB)
    assert outcomes[0] == 1 and len(outcomes) == 2 and isinstance(outcomes[1], Died)
    assert hungry.gone()
