"""Pure decisions about the run directory and the pidfile's lock holder."""

from __future__ import annotations

import os
import stat

from ocrmp.pool.pidfile import flock_holders, is_master_command
from ocrmp.rundir import run_dir_problem

UID = 1000


def status(mode: int, uid: int = UID) -> os.stat_result:
    return os.stat_result((mode, 0, 0, 1, uid, uid, 0, 0, 0, 0))


def test_a_private_directory_of_ours_is_fine() -> None:
    entry = status(stat.S_IFDIR | 0o700)
    assert run_dir_problem(entry, entry, UID) is None


def test_a_directory_of_another_user_is_refused() -> None:
    entry = status(stat.S_IFDIR | 0o700, uid=0)
    assert "owned by another user" in (run_dir_problem(entry, entry, UID) or "")


def test_a_link_planted_by_another_user_is_refused_even_to_our_directory() -> None:
    link, target = status(stat.S_IFLNK | 0o777, uid=UID + 1), status(stat.S_IFDIR | 0o700)
    assert "symbolic link" in (run_dir_problem(link, target, UID) or "")


def test_a_directory_others_can_write_is_refused() -> None:
    for mode in (0o770, 0o707, 0o1777):
        entry = status(stat.S_IFDIR | mode)
        assert "writable by other users" in (run_dir_problem(entry, entry, UID) or "")


def test_a_file_is_not_a_run_directory() -> None:
    entry = status(stat.S_IFREG | 0o600)
    assert run_dir_problem(entry, entry, UID) == "is not a directory"


LOCKS = """\
1: FLOCK  ADVISORY  WRITE 9538 fe:00:2150239 0 EOF
1: -> FLOCK  ADVISORY  WRITE 9600 fe:00:2150239 0 EOF
2: POSIX  ADVISORY  WRITE 3785 fe:00:2150239 0 EOF
3: FLOCK  ADVISORY  WRITE 4000 fe:01:2150239 0 EOF
4: FLOCK  ADVISORY  READ  4100 fe:00:2150239 0 EOF
"""


def test_only_flock_holders_of_that_very_file_count() -> None:
    # Not the waiter (->), not a POSIX lock, not the same inode on another device.
    assert flock_holders(LOCKS, 0xFE, 0, 2150239) == {9538, 4100}


def test_the_master_command_lines() -> None:
    assert is_master_command(["/usr/bin/python3", "-m", "ocrmp", "run", "--size", "2"], "p")
    assert is_master_command(["/opt/ocrmp/.venv/bin/python", "/opt/ocrmp/.venv/bin/ocrmp",
                              "run", "--pool-name", "p"], "p")
    assert is_master_command(["python", "-m", "ocrmp", "run", "--pool-name=p"], "p")


def test_other_command_lines_are_not_the_master() -> None:
    assert not is_master_command(["sleep", "600"], "p")
    assert not is_master_command(["flock", "/tmp/ocrmp-0/p.pid", "sleep", "600"], "p")
    assert not is_master_command(["python", "-m", "ocrmp", "stop", "--pool-name", "p"], "p")
    assert not is_master_command(["python", "-m", "ocrmp", "run", "--pool-name", "q"], "p")
    assert not is_master_command(["python", "-m", "ocrmp"], "p")
