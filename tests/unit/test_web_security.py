"""The console's pure decisions: where it may listen, who may ask, and the charts' buckets."""

from __future__ import annotations

import pytest

from ocrmp.errors import ConfigError
from ocrmp.web.charts import bar_chart, series
from ocrmp.web.data import cancel_error, error_counts
from ocrmp.web.security import authorised, check_bind, is_loopback, session_value

TOKEN = "t" * 24


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.2", "::1", "localhost"])
def test_loopback_needs_no_token(host: str) -> None:
    assert is_loopback(host)
    check_bind(host, None)


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "10.0.0.5", "example.org", "localhost.evil"])
def test_beyond_loopback_a_token_is_required(host: str) -> None:
    assert not is_loopback(host)
    with pytest.raises(ConfigError):
        check_bind(host, None)
    check_bind(host, TOKEN)


def test_a_short_token_is_refused_anywhere() -> None:
    with pytest.raises(ConfigError):
        check_bind("127.0.0.1", "t" * 15)


def test_without_a_token_set_everyone_on_loopback_is_let_in() -> None:
    assert authorised(None, None, None)


@pytest.mark.parametrize(("cookie", "header", "allowed"), [
    (None, None, False),
    (session_value(TOKEN), None, True),
    (TOKEN, None, False),  # the cookie holds the session value, never the token
    (session_value("u" * 24), None, False),
    (None, f"Bearer {TOKEN}", True),
    (None, f"Bearer {TOKEN}x", False),
    (None, TOKEN, False),
    (None, "Bearer ", False),
])
def test_a_token_is_carried_by_the_session_cookie_or_a_bearer_header(
        cookie: str | None, header: str | None, allowed: bool) -> None:
    assert authorised(TOKEN, cookie, header) is allowed


def test_a_series_has_every_bucket_of_its_span_with_empty_ones_at_zero() -> None:
    now = 10_000.0  # buckets of 60 s: the last starts at 9960
    data = series({9960: 30, 9900: 60, 5000: 999}, now=now, span_s=300, bucket_s=60)
    assert data.rates == (0.0, 0.0, 0.0, 60.0, 30.0)
    assert data.mean == 18.0


def test_a_bucket_of_half_an_hour_counts_pages_per_minute() -> None:
    data = series({1800: 90}, now=1800.0, span_s=1800, bucket_s=1800)
    assert data.rates == (3.0,)


def test_the_chart_draws_a_bar_per_busy_bucket_and_escapes_its_words() -> None:
    svg = bar_chart(series({60: 10, 120: 20}, now=150.0, span_s=180, bucket_s=60),
                    "<last>", "3 min")
    assert svg.count("<rect ") == 2
    assert "<last>" not in svg and "&lt;last&gt;" in svg


def test_errors_are_counted_by_kind_and_unnamed_ones_as_other() -> None:
    rows = [{"head": "corrupt_document", "documents": 3},
            {"head": "lease expired", "documents": 2},
            {"head": "", "documents": 1},
            {"head": "cancelled", "documents": 4}]
    assert error_counts(rows) == {"cancelled": 4, "corrupt_document": 3, "other": 3}


def test_a_cancelled_error_starts_with_its_kind() -> None:
    from ocrmp.errors import error_kind

    assert error_kind(cancel_error("marie")) == "cancelled"


def test_a_snapshot_is_taken_once_while_young_and_again_behind_the_scenes_when_old() -> None:
    import threading

    from ocrmp.web.snapshot import Snapshot

    taken: list[int] = []

    def take() -> int:
        taken.append(len(taken))
        return len(taken)

    young = Snapshot(take, max_age_s=3600)
    assert (young.get(), young.get()) == (1, 1)
    old: Snapshot[int] = Snapshot(take, max_age_s=0)
    first = old.get()
    assert old.get() == first  # the old one is served while the new one is taken
    for thread in threading.enumerate():
        if thread.name == "ocrmp-web-snapshot":
            thread.join(timeout=30)
    assert len(taken) == 3 and old.get() > first
