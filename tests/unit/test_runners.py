"""What a worker runs: the runner named by module path, or a clear refusal at start."""

from __future__ import annotations

import pytest

from ocrmp.errors import ConfigError
from ocrmp.pool.runners import resolve_runner
from tests.doubles import FAKE, FakeRunner


def test_a_runner_is_made_from_its_module_path_with_its_argument() -> None:
    runner = resolve_runner(f"{FAKE}:sleep=0.5,pages=3")()
    assert isinstance(runner, FakeRunner)
    assert (runner.default.sleep_s, runner.default.pages) == (0.5, 3)


def test_without_an_argument_the_runner_gets_its_defaults() -> None:
    runner = resolve_runner(FAKE)()
    assert isinstance(runner, FakeRunner) and runner.default.action == "ok"


@pytest.mark.parametrize("ref", ["tests.doubles", "tests.doubles:", ":FakeRunner",
                                 "tests.no_such_module:FakeRunner", "tests.doubles:Nothing",
                                 "tests.doubles:FAKE"])
def test_a_runner_that_cannot_be_made_is_a_config_error(ref: str) -> None:
    with pytest.raises(ConfigError, match="OCRMP_RUNNER="):
        resolve_runner(ref)
