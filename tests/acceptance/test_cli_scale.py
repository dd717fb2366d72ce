"""`ocrmp scale` as `pm2 scale`: N sets the size, +N / -N change it; a reload keeps it
unless the configuration changed the size."""

from __future__ import annotations

import signal
from pathlib import Path

from ocrmp.exitcodes import ExitCode
from tests.doubles import FAKE
from tests.poolrun import Pool, eventually


def workers(pool: Pool, n: int) -> None:
    eventually(lambda: len(pool.workers()) == n, what=f"{n} workers")


def test_scale_sets_and_changes_the_size_and_a_reload_keeps_it(dsn: str,
                                                              tmp_path: Path) -> None:
    config = tmp_path / "ocrmp.env"
    config.write_text("OCR_WORKER_POOL_SIZE=2\n")
    pool = Pool(dsn, tmp_path, "--config", str(config), "--runner", FAKE).start()
    try:
        workers(pool, 2)
        assert pool.ctl("scale", "3").returncode == 0
        workers(pool, 3)  # set, not added
        lower = pool.ctl("scale", "-1")
        assert lower.returncode == 0, lower.stderr
        workers(pool, 2)
        assert pool.ctl("scale", "+2").returncode == 0
        workers(pool, 4)
        before = {p.pid for p in pool.workers()}
        assert pool.ctl("reload", "--config", str(config)).returncode == 0
        eventually(lambda: not before & {p.pid for p in pool.workers()},
                   what="every worker replaced")
        workers(pool, 4)  # the configuration did not change the size: the scale holds
        config.write_text("OCR_WORKER_POOL_SIZE=1\n")
        assert pool.ctl("reload", "--config", str(config)).returncode == 0
        workers(pool, 1)
    finally:
        pool.signal(signal.SIGTERM)
        assert pool.wait() == 0


def test_scale_of_a_pool_that_does_not_run_says_so(dsn: str, tmp_path: Path) -> None:
    pool = Pool(dsn, tmp_path)
    assert pool.ctl("scale", "-1").returncode == ExitCode.NOT_RUNNING
    assert pool.ctl("scale", "nope").returncode == ExitCode.USAGE
