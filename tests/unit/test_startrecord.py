"""What a pool was started with, kept for `restart` and `ensure`."""

from __future__ import annotations

from pathlib import Path

from ocrmp.pool.startrecord import (
    StartRecord,
    configuring,
    describe,
    graceful_timeout,
    load,
    record_path,
    save,
    start_environment,
)

DSN = "postgresql://ocrmp:s3cret@db/queue"
RECORD = StartRecord(args=["--size", "2"], cwd="/srv",
                     env={"OCR_DEV": "true", "DEV_DATABASE_URL": DSN})


def test_only_the_configuring_variables_are_kept() -> None:
    environ = {"OCR_DEV": "true", "OCRMP_LEASE": "60s", "PROD_DATABASE_URL": DSN,
               "REDIS_URL": "redis://r", "PATH": "/bin", "HOME": "/root"}
    assert set(configuring(environ)) == {"OCR_DEV", "OCRMP_LEASE", "PROD_DATABASE_URL",
                                         "REDIS_URL"}


def test_a_restart_takes_the_pools_variables_not_the_shells() -> None:
    shell = {"PATH": "/bin", "OCR_PROD": "true", "PROD_DATABASE_URL": "postgresql://x/y"}
    env = start_environment(RECORD, shell)
    assert env == {"PATH": "/bin", "OCR_DEV": "true", "DEV_DATABASE_URL": DSN}


def test_the_record_is_kept_whole_and_private(tmp_path: Path) -> None:
    save(tmp_path, "p", RECORD)
    assert load(tmp_path, "p") == RECORD
    assert record_path(tmp_path, "p").stat().st_mode & 0o077 == 0


def test_no_record_or_a_broken_one_is_none(tmp_path: Path) -> None:
    assert load(tmp_path, "p") is None
    record_path(tmp_path, "p").write_text("{")
    assert load(tmp_path, "p") is None


def test_what_is_printed_names_the_variables_never_their_values() -> None:
    text = describe(RECORD)
    assert "DEV_DATABASE_URL" in text and "--size 2" in text
    assert "s3cret" not in text and DSN not in text


def test_a_stop_waits_for_the_graceful_timeout_the_pool_was_started_with() -> None:
    by_option = StartRecord(args=["--graceful-timeout", "10m"], cwd="/", env={})
    by_variable = StartRecord(args=[], cwd="/", env={"OCRMP_GRACEFUL_TIMEOUT": "90s"})
    assert graceful_timeout(by_option, 30.0) == 600.0
    assert graceful_timeout(by_variable, 30.0) == 90.0
    assert graceful_timeout(None, 30.0) == 30.0
    assert graceful_timeout(StartRecord(args=[], cwd="/", env={}), 30.0) == 30.0
