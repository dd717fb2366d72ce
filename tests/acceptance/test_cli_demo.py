"""`ocrmp demo` run for real, as a subprocess: embedded server, live pool, results table.

Each test that starts a pool names it after itself: two pools of one name cannot share a
host, and the suite runs tests side by side.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from ocrmp.embedded import EmbeddedPostgres, free_port
from ocrmp.exitcodes import ExitCode
from tests.doubles import FAKE

# A results-table row: "1 234 567  acte  1  95.3  4.2  done  0.4%  ACTE DE VENTE".
ROW = re.compile(r"^(\d \d{3} \d{3})\s+(acte|index)\s+(\d+|-)\s+(\S+)\s+(\S+)\s+(\w+)\s+"
                 r"(\S+%|-)\s+(.*)$", re.MULTILINE)
_CONFIGURATION = re.compile(r"^(OCR_(DEV|STAGING|PROD)|\w*DATABASE_URL|OCRMP_\w+)$")


def ocrmp(*args: str, env: dict[str, str],
          timeout: float = 240) -> subprocess.CompletedProcess[str]:
    """The CLI with the caller's configuration only, none inherited from this shell."""
    clean = {key: value for key, value in os.environ.items() if not _CONFIGURATION.match(key)}
    return subprocess.run([sys.executable, "-m", "ocrmp", *args], capture_output=True,
                          text=True, timeout=timeout, env={**clean, **env}, check=False)


def results(stdout: str) -> dict[str, tuple[str, ...]]:
    return {match.group(1): match.groups()[1:] for match in ROW.finditer(stdout)}


@pytest.fixture
def data_dir() -> Iterator[Path]:
    """A data directory of the test's own, outside pytest's temp tree (pytest resets that to
    mode 0700, locking out the embedded server's user, and so is mkdtemp's: opened to it
    here); the server is stopped afterwards."""
    home = Path(tempfile.mkdtemp(prefix="ocrmp-test-demo-"))
    home.chmod(0o711)
    path = home / "data"
    yield path
    if (path / "postgres").exists():
        EmbeddedPostgres(path / "postgres").stop()
    shutil.rmtree(path.parent, ignore_errors=True)


def environment(data_dir: Path, **extra: str) -> dict[str, str]:
    return {"OCRMP_DATA_DIR": str(data_dir), "OCRMP_RUN_DIR": str(data_dir / "run"), **extra}


@pytest.mark.slow
def test_demo_ocrs_samples_on_its_own_embedded_server(data_dir: Path) -> None:
    done = ocrmp("demo", "--documents", "2", "--pages", "1", "--pool-name", "demo-test-1",
                 env=environment(data_dir))
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"embedded PostgreSQL under {data_dir / 'postgres'}" in done.stdout
    assert f"pool log   {data_dir / 'demo.log'}" in done.stdout
    rows = results(done.stdout)
    assert sorted(kind for kind, *_ in rows.values()) == ["acte", "index"]
    for number, (kind, pages, confidence, _secs, status, cer, first_line) in rows.items():
        assert (status, pages) == ("done", "1"), number
        assert float(cer.rstrip("%")) < 5, f"{number} ({kind}) CER {cer}"
        assert float(confidence) > 60
        assert first_line.startswith("ACTE" if kind == "acte" else "INDEX DES IMMEUBLES")
    assert "2 of 2 documents done" in done.stdout
    assert "Traceback" not in done.stderr
    assert list((data_dir / "storage" / "acte").glob("demo-*.pdf"))


def test_fresh_removes_only_earlier_demo_jobs(dsn: str, tmp_path: Path) -> None:
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("INSERT INTO extraction_queue (document_number, document_source, "
                     "status_id, supabase_path) VALUES ('7 777 777', 'acte', 5, 'acte/x.pdf')")
    env = environment(tmp_path, DEV_DATABASE_URL=dsn)
    for _ in range(2):
        done = ocrmp("demo", "--documents", "3", "--pages", "1",
                     "--runner", f"{FAKE}:sleep=0.3,pages=1", "--pool-name", "demo-test-2",
                     env=env)
        assert done.returncode == 0, done.stdout + done.stderr
        assert "the configured dev database" in done.stdout
        assert len(results(done.stdout)) == 3
    assert "removed    3 jobs of earlier demos" in done.stdout
    with psycopg.connect(dsn) as conn:
        paths = [row[0] for row in conn.execute("SELECT supabase_path FROM extraction_queue")]
    assert sorted(path.split("/")[1][:5] for path in paths) == ["demo-"] * 3 + ["x.pdf"]


def test_unreachable_database_is_one_line(tmp_path: Path) -> None:
    dsn = f"postgresql://ocr:s3cret@127.0.0.1:{free_port()}/queue"
    done = ocrmp("demo", env=environment(tmp_path, DEV_DATABASE_URL=dsn), timeout=60)
    assert done.returncode == ExitCode.DATABASE
    assert done.stderr.startswith("ocrmp: error: ") and done.stderr.count("\n") == 1
    assert "cannot reach the database" in done.stderr
    assert "Traceback" not in done.stderr and "s3cret" not in done.stdout + done.stderr
    assert not (tmp_path / "postgres").exists()


def test_no_dev_database_is_a_config_error(tmp_path: Path) -> None:
    done = ocrmp("demo", env=environment(tmp_path, PROD_DATABASE_URL="postgresql://db/prod"),
                 timeout=60)
    assert done.returncode == ExitCode.CONFIG
    assert "dev database" in done.stderr and done.stderr.count("\n") == 1


def test_bad_value_is_a_usage_error(tmp_path: Path) -> None:
    done = ocrmp("demo", "--documents", "0", env=environment(tmp_path), timeout=60)
    assert done.returncode == ExitCode.USAGE
    assert "--documents" in done.stderr and "Traceback" not in done.stderr
