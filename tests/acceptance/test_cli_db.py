"""`ocrmp db migrate` and `ocrmp db check` run for real, as subprocesses; and the wrong usage
every database command shares (unknown option, environment not enabled, database down)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

from ocrmp.exitcodes import ExitCode
from ocrmp.sqlfiles import migrations
from tests import tinydocs
from tests.integration.test_diagnose import insert
from tests.integration.test_schema import ORIGINAL_TABLE

_OURS = ("OCR_DEV", "OCR_STAGING", "OCR_PROD", "DATABASE_URL", "DEV_DATABASE_URL",
         "STAGING_DATABASE_URL", "PROD_DATABASE_URL", "OCRMP_CONFIG", "OCRMP_STORAGE_ROOT")


def cli_environment(dsn: str, tmp: Path, env: dict[str, str] | None = None) -> dict[str, str]:
    """One dev database, data and storage under tmp, none of the caller's ocrmp settings."""
    base = {key: value for key, value in os.environ.items() if key not in _OURS}
    return {**base, "OCR_DEV": "true", "DEV_DATABASE_URL": dsn,
            "OCRMP_DATA_DIR": str(tmp / "data"), "OCRMP_STORAGE_ROOT": str(tmp / "storage"),
            **(env or {})}


def ocrmp(dsn: str, tmp: Path, *args: str,
          env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """The real CLI against one dev database, its data and storage under tmp."""
    return subprocess.run([sys.executable, "-m", "ocrmp", *args], capture_output=True,
                          text=True, timeout=120, env=cli_environment(dsn, tmp, env),
                          check=False)


def one_line_error(done: subprocess.CompletedProcess[str]) -> str:
    assert done.stderr.startswith("ocrmp: error: "), done.stderr
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr, done.stderr
    return done.stderr


def test_migrate_applies_each_file_once_then_is_up_to_date(empty_dsn: str,
                                                           tmp_path: Path) -> None:
    names = [name for name, _ in migrations()]
    first = ocrmp(empty_dsn, tmp_path, "db", "migrate")
    assert first.returncode == 0, first.stderr
    assert first.stdout == f"dev: applied {', '.join(names)}\n"
    again = ocrmp(empty_dsn, tmp_path, "db", "migrate", "--env", "dev")
    assert (again.returncode, again.stdout) == (0, "dev: up to date\n")


def test_migrate_the_original_table_then_check_is_healthy(empty_dsn: str,
                                                          tmp_path: Path) -> None:
    with psycopg.connect(empty_dsn, autocommit=True) as conn:
        conn.execute(ORIGINAL_TABLE)
    before = ocrmp(empty_dsn, tmp_path, "db", "check")
    assert before.returncode == ExitCode.CHECK_FAILED
    assert "lacks columns ocrmp needs" in before.stdout
    assert ocrmp(empty_dsn, tmp_path, "db", "migrate").returncode == 0
    after = ocrmp(empty_dsn, tmp_path, "db", "check")
    assert after.returncode == 0, after.stdout
    assert "1 ready job claimable now" in after.stdout
    with psycopg.connect(empty_dsn) as conn:
        kept = conn.execute("SELECT downloader_note FROM extraction_queue "
                            "WHERE document_number = '1 234 567'").fetchone()
    assert kept == ("keep me",)


def test_check_healthy_database_exits_0(dsn: str, tmp_path: Path) -> None:
    done = ocrmp(dsn, tmp_path, "db", "check")
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.splitlines()[0].startswith("dev (") and ": healthy" in done.stdout
    assert "trigger ocrmp_notify_ready is enabled" in done.stdout


def test_check_explains_jobs_nobody_picks_up(dsn: str, tmp_path: Path) -> None:
    exhausted = insert(dsn, 19, ocr_attempts=3, ocr_max_attempts=3)
    done = ocrmp(dsn, tmp_path, "db", "check")
    assert done.returncode == ExitCode.CHECK_FAILED
    assert "PROBLEM 19 ready jobs used all their attempts" in done.stdout
    assert "→ ocrmp requeue --exhausted --env dev" in done.stdout
    assert exhausted[0] in done.stdout
    as_json = json.loads(ocrmp(dsn, tmp_path, "db", "check", "--json").stdout)
    assert as_json["healthy"] is False
    [found] = [f for f in as_json["environments"][0]["findings"] if f["code"] == "exhausted"]
    assert found["count"] == 19 and found["level"] == "problem"


def test_check_empty_database_says_migrate(empty_dsn: str, tmp_path: Path) -> None:
    done = ocrmp(empty_dsn, tmp_path, "db", "check")
    assert done.returncode == ExitCode.CHECK_FAILED
    assert "table extraction_queue does not exist" in done.stdout
    assert "run `ocrmp db migrate`" in done.stdout


@pytest.mark.parametrize("args", [
    ("db", "check"), ("db", "migrate"), ("requeue", "--all"),
    ("enqueue", "{file}", "--kind", "acte"),
])
def test_unreachable_database_is_one_line_exit_4_without_password(
        tmp_path: Path, args: tuple[str, ...]) -> None:
    document = tmp_path / "scan.pdf"
    document.write_bytes(tinydocs.document())
    secret = "s3cr3t-pw"
    dsn = f"postgresql://nobody:{secret}@127.0.0.1:1/x"
    done = ocrmp(dsn, tmp_path, *(arg.format(file=document) for arg in args))
    assert done.returncode == ExitCode.DATABASE
    assert "cannot reach the database" in one_line_error(done)
    assert secret not in done.stdout + done.stderr
    assert not (tmp_path / "storage").exists()  # enqueue stored nothing


@pytest.mark.parametrize("args", [
    ("db", "check", "--bogus"), ("db", "bogus"), ("db", "migrate", "--env", "qa"),
    ("requeue",), ("requeue", "--all", "--kind", "acte"), ("enqueue", "--kind", "acte"),
])
def test_wrong_usage_is_one_line_exit_2(dsn: str, tmp_path: Path,
                                        args: tuple[str, ...]) -> None:
    done = ocrmp(dsn, tmp_path, *args)
    assert done.returncode == ExitCode.USAGE
    one_line_error(done)


def test_environment_not_enabled_is_a_config_error(dsn: str, tmp_path: Path) -> None:
    done = ocrmp(dsn, tmp_path, "db", "check", "--env", "prod")
    assert done.returncode == ExitCode.CONFIG
    assert "the prod environment is not enabled" in one_line_error(done)


@pytest.mark.parametrize("command", [("db", "migrate"), ("db", "check"), ("enqueue",),
                                     ("requeue",), ("review",)])
def test_help_has_an_example_and_env_vars(dsn: str, tmp_path: Path,
                                          command: tuple[str, ...]) -> None:
    done = ocrmp(dsn, tmp_path, *command, "--help")
    assert done.returncode == 0
    assert "Example" in done.stdout and "ocrmp " in done.stdout
    assert "[env var: OCR_DEV" in " ".join(done.stdout.split())  # as wrapped on screen
