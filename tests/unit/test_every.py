"""Every: the loops' periodic deadlines on an injected clock."""

from __future__ import annotations

import random

from ocrmp.pool.every import Every
from tests.clock import FakeClock


def test_due_at_once_then_once_per_interval() -> None:
    clock = FakeClock()
    every = Every(2.0, clock=clock.seconds)
    assert every.due()
    assert not every.due()
    clock.advance(1.9)
    assert not every.due()
    clock.advance(0.1)
    assert every.due() and not every.due()


def test_jitter_spreads_the_deadline_within_its_share() -> None:
    clock = FakeClock()
    every = Every(10.0, 0.25, clock.seconds, random.Random(7))
    gaps = []
    for _ in range(200):
        every.due()
        gaps.append(every.deadline - clock.seconds())
        clock.advance(gaps[-1] + 1e-6)  # just past the deadline
    assert min(gaps) >= 7.5 and max(gaps) <= 12.5
    assert max(gaps) - min(gaps) > 2.5  # spread, not a constant


def test_an_interval_given_as_a_function_is_read_again() -> None:
    clock = FakeClock()
    interval = [5.0]
    every = Every(lambda: interval[0], clock=clock.seconds)
    every.due()
    interval[0] = 1.0  # e.g. a reload
    clock.advance(5)
    every.due()
    clock.advance(1)
    assert every.due()

