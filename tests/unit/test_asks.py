"""What an operator's command asks of the master through the run directory: how long to
drain, which size to take."""

from __future__ import annotations

import json
import time
from pathlib import Path

from ocrmp.pool import asks


def test_a_drain_request_is_read_once(tmp_path: Path) -> None:
    asks.request(tmp_path, "p", asks.DRAIN, drain_s=900.0)
    assert asks.take_drain(tmp_path, "p") == 900.0
    assert asks.take_drain(tmp_path, "p") is None


def test_without_a_request_nothing_is_asked(tmp_path: Path) -> None:
    assert asks.take_drain(tmp_path, "p") is None
    assert asks.take_size(tmp_path, "p", 2) is None


def test_a_stale_request_is_ignored(tmp_path: Path) -> None:
    asks.request(tmp_path, "p", asks.DRAIN, drain_s=900.0)
    later = time.time() + asks.REQUEST_TTL_S + 1
    assert asks.take_drain(tmp_path, "p", now=later) is None


def test_an_unreadable_request_is_ignored(tmp_path: Path) -> None:
    asks.request_path(tmp_path, "p", asks.DRAIN).write_text("nonsense")
    assert asks.take_drain(tmp_path, "p") is None
    asks.request_path(tmp_path, "p", asks.SCALE).write_text('["size", 3]')
    assert asks.take_size(tmp_path, "p", 2) is None


def test_a_request_through_a_symbolic_link_is_not_read(tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.write_text(json.dumps({"drain_s": 5, "at": time.time()}))
    asks.request_path(tmp_path, "p", asks.DRAIN).symlink_to(elsewhere)
    assert asks.take_drain(tmp_path, "p") is None


def test_the_request_is_private(tmp_path: Path) -> None:
    asks.request(tmp_path, "p", asks.DRAIN, drain_s=60.0)
    assert asks.request_path(tmp_path, "p", asks.DRAIN).stat().st_mode & 0o077 == 0


def test_a_size_is_set_or_changed(tmp_path: Path) -> None:
    asks.request(tmp_path, "p", asks.SCALE, size=3)
    assert asks.take_size(tmp_path, "p", 2) == 3
    asks.request(tmp_path, "p", asks.SCALE, by=3)
    assert asks.take_size(tmp_path, "p", 2) == 5
    asks.request(tmp_path, "p", asks.SCALE, by=-1)
    assert asks.take_size(tmp_path, "p", 2) == 1
