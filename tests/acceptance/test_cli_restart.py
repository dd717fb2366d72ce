"""`restart` and `ensure` start the pool that runs with its own settings, not the shell's."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from ocrmp.pool.startrecord import record_path
from tests.doubles import FAKE
from tests.poolrun import enqueue, eventually, statuses

POOL = "recorded"


def ocrmp(run_dir: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """The command in a shell whose configuration is only run_dir, pool name and `env`."""
    base = {key: value for key, value in os.environ.items()
            if not key.endswith("DATABASE_URL") and not key.startswith(("OCR_", "OCRMP_"))}
    base.update(OCRMP_RUN_DIR=str(run_dir), OCRMP_POOL_NAME=POOL, **env)
    return subprocess.run([sys.executable, "-m", "ocrmp", *args], env=base,
                          capture_output=True, text=True, timeout=120, check=False)


def test_restart_from_another_shell_keeps_the_pools_database(dsn: str, tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    started = ocrmp(run_dir, "ensure", "--size", "1", "--runner", FAKE, "--min-index", "0",
                    OCR_DEV="true", DEV_DATABASE_URL=dsn)
    assert started.returncode == 0, started.stderr
    try:
        eventually(lambda: record_path(run_dir, POOL).exists(), what="the start kept")
        assert record_path(run_dir, POOL).stat().st_mode & 0o077 == 0
        restarted = ocrmp(run_dir, "restart")  # a shell with no database configured
        assert restarted.returncode == 0, restarted.stderr
        assert "started with" in restarted.stdout
        assert dsn not in restarted.stdout + restarted.stderr
        enqueue(dsn, 2, "acte", "fake:sleep=0")
        eventually(lambda: statuses(dsn) == {5: 2}, what="the new pool serving the same queue")
        again = ocrmp(run_dir, "ensure")
        assert "already running" in again.stdout
    finally:
        ocrmp(run_dir, "stop", "--now")
