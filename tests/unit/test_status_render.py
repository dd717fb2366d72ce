"""What `ocrmp status` prints is for people: no Python structure in a line."""

from __future__ import annotations

from ocrmp.status import render, unreachable


def report(**environments: dict[str, object]) -> dict[str, object]:
    pool = {"host": "h1", "pool": "ocr-pool", "pid": 42, "size": 2, "modes": {"index": 1,
            "acte": 1}, "ratelimit_state": "redis", "version": "1", "workers": []}
    return {"environments": environments, "rate_limits": [],
            "fleet": {"configured": True, "pools": [pool]}}


def test_the_fleet_line_names_the_modes_in_words() -> None:
    text = render(report(dev={"reachable": True, "kinds": {}}))
    [line] = [line for line in text.splitlines() if "h1/ocr-pool" in line]
    assert "modes index 1, acte 1" in line
    assert "{" not in line


def test_an_environment_not_read_is_unreachable() -> None:
    status = report(dev={"reachable": True, "kinds": {}},
                    prod={"reachable": False, "error": "refused", "kinds": {}})
    assert unreachable(status) == ["prod"]
