"""`ocrmp run` refuses bad setups with one clear line and a named exit code."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from ocrmp.exitcodes import ExitCode
from tests.doubles import FAKE


def ocrmp(*args: str, env: dict[str, str], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    full_env = {key: value for key, value in os.environ.items()
                if not key.endswith("DATABASE_URL") and not key.startswith("OCR_")}
    full_env.update({"OCRMP_RUN_DIR": str(tmp_path / "run"), **env})
    return subprocess.run([sys.executable, "-m", "ocrmp", *args], env=full_env,
                          capture_output=True, text=True, timeout=120, check=False)


def assert_one_line(result: subprocess.CompletedProcess[str], code: int, words: str) -> None:
    assert result.returncode == code, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert words in lines[0]
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("dsn", ["postgresql://u:s3cret@127.0.0.1:1/registre",
                                 "host=127.0.0.1 port=1 password=s3cret dbname=x"])
def test_unreachable_database_is_waited_for(tmp_path: Path, dsn: str) -> None:
    """An outage is not a configuration error: the master starts, says so once and waits."""
    env = {key: value for key, value in os.environ.items()
           if not key.endswith("DATABASE_URL") and not key.startswith("OCR_")}
    # The slot table is named in /dev/shm for the whole machine, and both cases may run at
    # once in two test processes whose temporary folders end alike: a name of its own.
    env.update({"OCRMP_RUN_DIR": str(tmp_path / "run"), "OCR_DEV": "true",
                "DEV_DATABASE_URL": dsn, "OCRMP_POOL_NAME": f"w{uuid.uuid4().hex[:10]}"})
    log = tmp_path / "pool.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "ocrmp", "run", "--runner", FAKE,
                                 "--size", "1"], env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while "Environment dev unavailable" not in log.read_text() and proc.poll() is None \
                and time.monotonic() < deadline:
            time.sleep(0.05)
        assert proc.poll() is None, log.read_text()
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(60) == 0, log.read_text()
    finally:
        if proc.poll() is None:
            proc.kill()
    text = log.read_text()
    assert text.count("Environment dev unavailable") == 1, text
    assert "cannot reach the database" in text
    assert "s3cret" not in text


def test_invalid_dsn_is_a_configuration_error(tmp_path: Path) -> None:
    result = ocrmp("run", "--runner", FAKE,
                   env={"OCR_DEV": "true", "DEV_DATABASE_URL": "not a dsn at all"},
                   tmp_path=tmp_path)
    assert_one_line(result, ExitCode.CONFIG, "invalid DSN for dev")


def test_invalid_pool_size(tmp_path: Path) -> None:
    result = ocrmp("run", env={"OCR_WORKER_POOL_SIZE": "many"}, tmp_path=tmp_path)
    assert_one_line(result, ExitCode.CONFIG, "OCR_WORKER_POOL_SIZE='many' is invalid")


def test_a_pool_larger_than_the_slot_table_is_refused_at_start(tmp_path: Path) -> None:
    result = ocrmp("run", env={"OCR_WORKER_POOL_SIZE": "65"}, tmp_path=tmp_path)
    assert_one_line(result, ExitCode.CONFIG, "OCR_WORKER_POOL_SIZE=65 is invalid")


def test_run_help_advertises_no_test_double(tmp_path: Path) -> None:
    result = ocrmp("run", "--help", env={}, tmp_path=tmp_path)
    assert result.returncode == 0
    assert "fake" not in result.stdout.lower() and "--runner" not in result.stdout


def test_a_runner_that_cannot_be_found_is_refused_at_start(tmp_path: Path, dsn: str) -> None:
    result = ocrmp("run", "--runner", "tests.no_such_module:Runner",
                   env={"OCR_DEV": "true", "DEV_DATABASE_URL": dsn}, tmp_path=tmp_path)
    assert_one_line(result, ExitCode.CONFIG, "OCRMP_RUNNER='tests.no_such_module:Runner'")


def test_bad_flag_value(tmp_path: Path) -> None:
    result = ocrmp("run", "--max-memory", "lots", env={}, tmp_path=tmp_path)
    assert result.returncode == ExitCode.USAGE
    assert "expected a size like 2G" in result.stderr


def test_unmigrated_database(tmp_path: Path, empty_dsn: str) -> None:
    result = ocrmp("run", "--runner", FAKE,
                   env={"OCR_DEV": "true", "DEV_DATABASE_URL": empty_dsn}, tmp_path=tmp_path)
    assert_one_line(result, ExitCode.DATABASE, "ocrmp db migrate")


def test_missing_language_data_is_a_startup_error(tmp_path: Path, dsn: str) -> None:
    result = ocrmp("run", env={"OCR_DEV": "true", "DEV_DATABASE_URL": dsn,
                               "OCRMP_LANG": "xyz"}, tmp_path=tmp_path)
    assert_one_line(result, ExitCode.ENGINE, "xyz.traineddata")


def test_ocr_settings_of_the_config_file_are_used(tmp_path: Path, dsn: str) -> None:
    config = tmp_path / "ocrmp.env"
    config.write_text(f"OCR_DEV=true\nDEV_DATABASE_URL={dsn}\nOCRMP_LANG=xyz\n")
    result = ocrmp("run", "--config", str(config), "--until-idle", env={}, tmp_path=tmp_path)
    assert_one_line(result, ExitCode.ENGINE, "xyz.traineddata")


@pytest.mark.parametrize("command", [["stop"], ["reload"], ["scale", "+1"], ["restart", "--help"]])
def test_control_commands_without_a_pool(tmp_path: Path, dsn: str, command: list[str]) -> None:
    result = ocrmp(*command, "--pool-name", "absent",
                   env={"OCR_DEV": "true", "DEV_DATABASE_URL": dsn}, tmp_path=tmp_path)
    if command[-1] == "--help":
        assert result.returncode == 0 and "Example" in result.stdout
        return
    assert_one_line(result, ExitCode.NOT_RUNNING, "no pool 'absent' is running")


def test_scale_needs_a_number(tmp_path: Path) -> None:
    result = ocrmp("scale", "lots", env={}, tmp_path=tmp_path)
    assert result.returncode == ExitCode.USAGE
    assert "expected N, +N or -N" in result.stderr and "Traceback" not in result.stderr


def test_workers_and_status_without_a_pool(tmp_path: Path, dsn: str) -> None:
    env = {"OCR_DEV": "true", "DEV_DATABASE_URL": dsn}
    workers = ocrmp("workers", "--pool-name", "absent", env=env, tmp_path=tmp_path)
    assert workers.returncode == 0 and "no live pool" in workers.stdout
    status = ocrmp("status", env=env, tmp_path=tmp_path)
    assert status.returncode == 0 and "(empty)" in status.stdout


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to give a segment away")
def test_a_slot_table_planted_by_another_user_is_named(tmp_path: Path, dsn: str) -> None:
    from multiprocessing.shared_memory import SharedMemory

    from ocrmp.pool.slots import segment_name, table_size

    pool = f"planted-{uuid.uuid4().hex[:8]}"
    planted = SharedMemory(segment_name(pool), create=True, size=table_size(1))
    try:
        os.fchown(planted._fd, 65534, 65534)  # nobody
        result = ocrmp("run", "--runner", FAKE, "--pool-name", pool,
                       env={"OCR_DEV": "true", "DEV_DATABASE_URL": dsn}, tmp_path=tmp_path)
        assert result.returncode == ExitCode.FAILURE, result.stderr
        error = result.stderr.strip().splitlines()[-1]  # after the master's own "stopped"
        assert error.startswith("ocrmp: error: ") and "belongs to user nobody" in error
    finally:
        planted.close()
        planted.unlink()
