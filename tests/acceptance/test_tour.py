"""The README's five-minute tour runs as written: every command of its block, in order, in a
fresh directory, against a private database, the real OCR doing the work."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

README = Path(__file__).resolve().parents[2] / "README.md"

pytestmark = pytest.mark.slow


def tour_commands() -> list[str]:
    text = README.read_text()
    block = text.split("## A five-minute tour", 1)[1].split("```", 2)[1]
    lines = [re.sub(r"\s+# .*$", "", line).strip() for line in block.splitlines()]
    return [line for line in lines if line and not line.startswith(". ")]  # the venv: ours


def test_the_tour_has_the_commands_a_new_user_needs() -> None:
    commands = " ".join(tour_commands())
    for needed in ("enqueue", "ensure", "workers", "status", "job", "logs", "stop"):
        assert f"ocrmp {needed}" in commands


def test_the_tour_runs_as_written(dsn: str, tmp_path: Path) -> None:
    keep = {key: value for key, value in os.environ.items()
            if not key.endswith("DATABASE_URL") and not key.startswith(("OCR_", "OCRMP_"))}
    env = {**keep, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{keep['PATH']}",
           "OCR_DEV": "true", "DEV_DATABASE_URL": dsn, "OCRMP_POOL_NAME": "tour",
           "OCRMP_RUN_DIR": str(tmp_path / "run"), "OCRMP_DATA_DIR": str(tmp_path / "data")}
    try:
        for command in tour_commands():
            done = subprocess.run(["bash", "-c", command], cwd=tmp_path, env=env,
                                  capture_output=True, text=True, timeout=240, check=False)
            assert done.returncode == 0, f"{command}: {done.stdout}{done.stderr}"
            assert "Traceback" not in done.stderr, f"{command}: {done.stderr}"
    finally:
        subprocess.run(["bash", "-c", "ocrmp stop --now"], cwd=tmp_path, env=env,
                       capture_output=True, timeout=120, check=False)
    with psycopg.connect(dsn) as conn:
        statuses = {row[0] for row in conn.execute("SELECT status_id FROM extraction_queue")}
    assert statuses <= {3, 5}  # done, or given back by the stop: nothing failed
