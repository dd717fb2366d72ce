"""Unforeseen errors of a pass: a traceback once per kind, then a line a minute at most."""

from __future__ import annotations

import logging

import pytest

from ocrmp.pool.contain import REPEAT_EVERY_S, Containment


def test_each_kind_is_logged_in_full_once_then_sparingly(
        caplog: pytest.LogCaptureFixture) -> None:
    now = [0.0]
    containment = Containment(lambda: now[0])
    with caplog.at_level(logging.ERROR, logger="ocrmp.master"):
        for _ in range(100):
            containment.contain(RuntimeError("bug"), "a pass")
        containment.contain(KeyError("other"), "a pass")
        now[0] += REPEAT_EVERY_S
        containment.contain(RuntimeError("bug"), "a pass")
    assert containment.count == 102
    assert [record.exc_info is not None for record in caplog.records] == [True, True, False]
