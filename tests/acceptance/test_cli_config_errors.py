"""Broken configuration is an error, not a healthy-looking pool: a database that refuses
us, an unreachable one in `status`, a misspelt setting."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest

from ocrmp.embedded import free_port
from ocrmp.exitcodes import ExitCode
from tests.acceptance.test_cli_db import ocrmp, one_line_error
from tests.doubles import FAKE


def missing_database(dsn: str) -> str:
    info = psycopg.conninfo.conninfo_to_dict(dsn)
    info["dbname"] = "no_such_database_here"
    return psycopg.conninfo.make_conninfo(**info)  # type: ignore[arg-type]


@pytest.mark.parametrize("until_idle", [(), ("--until-idle",)], ids=["run", "until-idle"])
def test_run_against_a_database_that_does_not_exist_exits_3(
        dsn: str, tmp_path: Path, until_idle: tuple[str, ...]) -> None:
    done = ocrmp(missing_database(dsn), tmp_path, "run", "--size", "1", "--runner", FAKE,
                 *until_idle, env={"OCRMP_RUN_DIR": str(tmp_path / "run")})
    assert done.returncode == ExitCode.CONFIG
    assert "does not exist" in one_line_error(done)


def test_status_with_a_database_that_does_not_exist_fails(dsn: str, tmp_path: Path) -> None:
    done = ocrmp(missing_database(dsn), tmp_path, "status",
                 env={"OCRMP_RUN_DIR": str(tmp_path / "run")})
    assert done.returncode == ExitCode.DATABASE
    assert "unreachable" in done.stdout


def test_status_with_an_unreachable_database_fails(dsn: str, tmp_path: Path) -> None:
    closed = f"postgresql://ocrmp@127.0.0.1:{free_port()}/queue"
    done = ocrmp(closed, tmp_path, "status", env={"OCRMP_RUN_DIR": str(tmp_path / "run")})
    assert done.returncode == ExitCode.DATABASE


def test_status_of_healthy_databases_succeeds(dsn: str, tmp_path: Path) -> None:
    done = ocrmp(dsn, tmp_path, "status", env={"OCRMP_RUN_DIR": str(tmp_path / "run")})
    assert done.returncode == 0, done.stderr


def test_a_misspelt_setting_is_reported_with_the_closest_name(dsn: str,
                                                              tmp_path: Path) -> None:
    done = ocrmp(dsn, tmp_path, "status", env={"OCRMP_RUN_DIR": str(tmp_path / "run"),
                                               "OCRMP_LAESE": "60s"})
    assert done.returncode == 0
    assert "OCRMP_LAESE" in done.stderr and "OCRMP_LEASE" in done.stderr
    assert "60s" not in done.stderr


def test_a_misspelt_setting_in_the_config_file_is_reported(dsn: str, tmp_path: Path) -> None:
    config = tmp_path / "ocrmp.env"
    config.write_text("OCR_PORD=true\n")
    done = ocrmp(dsn, tmp_path, "status", "--config", str(config),
                 env={"OCRMP_RUN_DIR": str(tmp_path / "run")})
    assert str(config) in done.stderr and "OCR_PROD" in done.stderr
