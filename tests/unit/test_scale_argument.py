"""`ocrmp scale`'s argument, as `pm2 scale` reads it: N sets, +N and -N change."""

from __future__ import annotations

import pytest

from ocrmp.cli.pool import scale_request


def test_a_bare_number_sets_the_size() -> None:
    assert scale_request("3") == {"size": 3}


@pytest.mark.parametrize(("text", "by"), [("+2", 2), ("-1", -1), ("+0", 0)])
def test_a_signed_number_changes_it(text: str, by: int) -> None:
    assert scale_request(text) == {"by": by}


@pytest.mark.parametrize("text", ["0", "three", "", "1.5"])
def test_anything_else_is_refused(text: str) -> None:
    with pytest.raises(ValueError):
        scale_request(text)
