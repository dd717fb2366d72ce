"""How long a stopping pool drains: the operator's request through the run directory."""

from __future__ import annotations

import json
import time
from pathlib import Path

from ocrmp.pool import drain


def test_a_request_is_read_once(tmp_path: Path) -> None:
    drain.request(tmp_path, "p", 900.0)
    assert drain.take(tmp_path, "p") == 900.0
    assert drain.take(tmp_path, "p") is None


def test_without_a_request_the_graceful_timeout_applies(tmp_path: Path) -> None:
    assert drain.take(tmp_path, "p") is None


def test_a_stale_request_is_ignored(tmp_path: Path) -> None:
    drain.request(tmp_path, "p", 900.0)
    later = time.time() + drain.REQUEST_TTL_S + 1
    assert drain.take(tmp_path, "p", now=later) is None


def test_an_unreadable_request_is_ignored(tmp_path: Path) -> None:
    drain.request_path(tmp_path, "p").write_text("nonsense")
    assert drain.take(tmp_path, "p") is None


def test_a_request_through_a_symbolic_link_is_not_read(tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.write_text(json.dumps({"drain_s": 5, "at": time.time()}))
    drain.request_path(tmp_path, "p").symlink_to(elsewhere)
    assert drain.take(tmp_path, "p") is None


def test_the_request_is_private(tmp_path: Path) -> None:
    drain.request(tmp_path, "p", 60.0)
    assert drain.request_path(tmp_path, "p").stat().st_mode & 0o077 == 0
