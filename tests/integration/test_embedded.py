"""The embedded server accepts the pool's own user only: a private socket, a password, no TCP."""

from __future__ import annotations

import os
import socket
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from ocrmp.embedded import EmbeddedPostgres
from ocrmp.errors import ConfigError
from tests.servers import remove_postgres, start_postgres

# Run as another local user: the exception's class name, or "connected".
_CONNECT_AS_OTHER = """
import socket, sys
try:
    with socket.socket(socket.AF_UNIX) as sock:
        sock.connect(sys.argv[1])
except OSError as error:
    print(type(error).__name__)
else:
    print("connected")
"""


@pytest.fixture(scope="module")
def server() -> Iterator[EmbeddedPostgres]:
    started = start_postgres()
    yield started
    remove_postgres(started)


def test_nothing_listens_on_tcp(server: EmbeddedPostgres) -> None:
    with psycopg.connect(server.dsn()) as conn:
        row = conn.execute("SHOW listen_addresses").fetchone()
    assert row == ("",)
    with socket.socket() as sock, pytest.raises(ConnectionRefusedError):
        sock.connect(("127.0.0.1", server.port))


def test_only_password_logins_through_the_socket_are_allowed(server: EmbeddedPostgres) -> None:
    with psycopg.connect(server.dsn()) as conn:
        rules = conn.execute("SELECT type, auth_method FROM pg_hba_file_rules").fetchall()
    assert rules == [("local", "scram-sha-256")]


def test_a_wrong_password_is_refused(server: EmbeddedPostgres, tmp_path: Path) -> None:
    wrong = tmp_path / "pgpass"
    wrong.write_text("*:*:*:postgres:not-the-password\n")
    wrong.chmod(0o600)
    psycopg.connect(server.dsn()).close()  # the same DSN with the right password file
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(server.dsn().replace(str(server.passfile), str(wrong))).close()


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to act as another user")
def test_another_local_user_cannot_reach_the_socket(server: EmbeddedPostgres) -> None:
    done = subprocess.run(["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups",
                           sys.executable, "-I", "-c", _CONNECT_AS_OTHER,
                           str(server.socket_path)],
                          capture_output=True, text=True, timeout=30, check=True)
    assert server.socket_path.exists()
    assert done.stdout.strip() == "PermissionError"


def test_the_socket_dir_and_password_file_are_private(server: EmbeddedPostgres) -> None:
    assert stat.S_IMODE(server.socket_dir.stat().st_mode) == 0o700
    passfile = server.passfile.stat()
    assert stat.S_IMODE(passfile.st_mode) == 0o600
    assert passfile.st_uid == os.geteuid()


def test_the_dsn_carries_no_password(server: EmbeddedPostgres) -> None:
    info = psycopg.conninfo.conninfo_to_dict(server.dsn())
    assert "password" not in info
    assert info["passfile"] == str(server.passfile)


def test_a_server_made_with_trust_on_tcp_is_secured_at_start(tmp_path: Path) -> None:
    """A data directory from an older ocrmp: trust on 127.0.0.1 and no password file."""
    server = start_postgres()
    try:
        server.stop()
        server.passfile.unlink()
        (server.datadir / "pg_hba.conf").write_text("host all all 127.0.0.1/32 trust\n")
        (server.datadir / "postgresql.auto.conf").write_text(
            f"port = {server.port}\nlisten_addresses = '127.0.0.1'\n"
            "unix_socket_directories = ''\n")
        again = EmbeddedPostgres(server.datadir)
        again.start()
        with psycopg.connect(again.dsn()) as conn:
            rules = conn.execute("SELECT type, auth_method FROM pg_hba_file_rules").fetchall()
            listen = conn.execute("SHOW listen_addresses").fetchone()
        assert (rules, listen) == ([("local", "scram-sha-256")], ("",))
    finally:
        remove_postgres(server)


@pytest.mark.skipif(os.geteuid() != 0, reason="the server has a user of its own only as root")
def test_a_parent_its_user_cannot_pass_is_refused_never_loosened(tmp_path: Path) -> None:
    private = tmp_path / "private"
    private.mkdir()
    private.chmod(0o700)
    with pytest.raises(ConfigError):
        EmbeddedPostgres(private / "data" / "postgres").init()
    assert private.stat().st_mode & 0o777 == 0o700
    assert not (private / "data").exists()


def test_the_useradd_lock_lies_where_only_root_creates_files() -> None:
    """Where any local user may create it (/run/lock is 1777), one could hold it first."""
    from ocrmp.embedded import _USERADD_LOCK

    assert not _USERADD_LOCK.parent.stat().st_mode & 0o022
