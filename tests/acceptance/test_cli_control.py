"""`ocrmp stop`, `reload`, `scale`, `restart` and `ensure` signal only a proven master, and
only through a private run directory."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from ocrmp.exitcodes import ExitCode
from tests.doubles import FAKE
from tests.planted import children_of, locked_by_sleep

POOL = "planted"
COMMANDS = [["stop", "--wait", "2s"], ["reload"], ["scale", "+1"], ["restart", "--wait", "2s"],
            ["ensure", "--runner", FAKE]]


def ocrmp(run_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {key: value for key, value in os.environ.items()
           if not key.endswith("DATABASE_URL") and not key.startswith(("OCR_", "OCRMP_"))}
    env.update(OCRMP_RUN_DIR=str(run_dir), OCRMP_POOL_NAME=POOL)
    return subprocess.run([sys.executable, "-m", "ocrmp", *args], env=env, capture_output=True,
                          text=True, timeout=60, check=False)


def one_line(done: subprocess.CompletedProcess[str]) -> str:
    assert done.stderr.startswith("ocrmp: error: "), done.stderr
    assert done.stderr.count("\n") == 1, done.stderr
    return done.stderr


@pytest.fixture
def planted(tmp_path: Path) -> Iterator[tuple[Path, subprocess.Popen[bytes]]]:
    """A run directory whose pidfile is locked by `flock … sleep` and names the sleep."""
    run_dir = tmp_path / "run"
    run_dir.mkdir(mode=0o700)
    with locked_by_sleep(run_dir / f"{POOL}.pid") as holder:
        yield run_dir, holder


def sleeper_of(holder: subprocess.Popen[bytes]) -> int:
    return children_of(holder.pid)[0]


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: c[0])
def test_a_process_named_by_a_planted_pidfile_is_not_signalled(
        planted: tuple[Path, subprocess.Popen[bytes]], command: list[str]) -> None:
    run_dir, holder = planted
    sleeper = sleeper_of(holder)
    (run_dir / f"{POOL}.pid").write_text(f"{sleeper}\n")
    done = ocrmp(run_dir, *command)
    assert done.returncode == ExitCode.FAILURE
    assert "not signalling" in one_line(done)
    assert holder.poll() is None
    os.kill(sleeper, 0)  # still there, and not stopped either
    assert Path(f"/proc/{sleeper}/stat").read_text().split(") ")[1][0] == "S"


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to give a directory away")
@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: c[0])
def test_a_run_directory_of_another_user_is_refused(tmp_path: Path,
                                                    command: list[str]) -> None:
    run_dir = tmp_path / "run"
    run_dir.mkdir(mode=0o700)
    shutil.chown(run_dir, "nobody")
    done = ocrmp(run_dir, *command)
    assert done.returncode == ExitCode.CONFIG
    assert "owned by another user" in one_line(done)
