"""The pidfile and its run directory on a real filesystem, against planted files and locks."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from ocrmp.pool.pidfile import NotTheMaster, Pidfile, proven_master, running_master
from ocrmp.rundir import UnsafeRunDir, private_run_dir
from tests.planted import locked_by_sleep

POOL = "planted"


def test_the_run_directory_is_created_private(tmp_path: Path) -> None:
    run_dir = private_run_dir(tmp_path / "run")
    assert stat.S_IMODE(run_dir.stat().st_mode) == 0o700


def test_a_symlinked_pidfile_is_not_followed(tmp_path: Path) -> None:
    run_dir = private_run_dir(tmp_path / "run")
    victim = tmp_path / "victim"
    victim.write_text("precious\n")
    (run_dir / f"{POOL}.pid").symlink_to(victim)
    with pytest.raises(UnsafeRunDir):
        Pidfile(run_dir / f"{POOL}.pid").acquire()
    assert victim.read_text() == "precious\n"


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to give a directory away")
def test_a_run_directory_owned_by_another_user_is_refused(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    run_dir.mkdir(mode=0o700)
    shutil.chown(run_dir, "nobody")
    with pytest.raises(UnsafeRunDir):
        Pidfile(run_dir / f"{POOL}.pid").acquire()
    assert not (run_dir / f"{POOL}.pid").exists()


def test_a_run_directory_others_can_write_is_refused(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    run_dir.chmod(0o1777)
    with pytest.raises(UnsafeRunDir):
        Pidfile(run_dir / f"{POOL}.pid").acquire()


@pytest.fixture
def planted_lock(tmp_path: Path) -> Iterator[tuple[Path, subprocess.Popen[bytes]]]:
    """A pidfile locked by `flock … sleep`, as another program (or user) could."""
    path = private_run_dir(tmp_path / "run") / f"{POOL}.pid"
    with locked_by_sleep(path) as holder:
        yield path, holder


def test_a_pidfile_naming_another_process_than_the_lock_holder_is_refused(
        planted_lock: tuple[Path, subprocess.Popen[bytes]]) -> None:
    path, _ = planted_lock
    path.write_text("1\n")
    with pytest.raises(NotTheMaster):
        proven_master(path, POOL)


def test_a_lock_holder_that_is_not_an_ocrmp_master_is_refused(
        planted_lock: tuple[Path, subprocess.Popen[bytes]]) -> None:
    path, holder = planted_lock
    path.write_text(f"{holder.pid}\n")
    with pytest.raises(NotTheMaster):
        proven_master(path, POOL)


def test_our_own_lock_proves_us_only_if_we_run_the_pool(tmp_path: Path) -> None:
    pidfile = Pidfile(tmp_path / "run" / f"{POOL}.pid")
    pidfile.acquire()
    try:
        assert running_master(pidfile.path) == os.getpid()
        with pytest.raises(NotTheMaster):  # we hold the lock, but pytest is not `ocrmp run`
            proven_master(pidfile.path, POOL)
    finally:
        pidfile.release()
    assert proven_master(pidfile.path, POOL) is None
