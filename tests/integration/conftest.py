"""The master's test fixtures (see tests/masters.py): a fake clock, fake processes, and a
started master of one worker or of two."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from ocrmp.pool.master import Master
from tests.clock import FakeClock
from tests.forking import FakeProcesses
from tests.masters import started


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(start_s=1000)


@pytest.fixture
def processes() -> FakeProcesses:
    return FakeProcesses()


@pytest.fixture
def master(dsn: str, tmp_path: Path, clock: FakeClock,
           processes: FakeProcesses) -> Iterator[Master]:
    with started(dsn, tmp_path, clock, processes) as made:
        yield made


@pytest.fixture
def pair(dsn: str, tmp_path: Path, clock: FakeClock,
         processes: FakeProcesses) -> Iterator[Master]:
    """A master of two workers."""
    with started(dsn, tmp_path, clock, processes, size=2) as made:
        yield made
