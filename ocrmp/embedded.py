"""A private PostgreSQL server under a data directory, for the embedded default and tests.

The server binaries come from the `embedded` extra (pgserver ships a PostgreSQL build on
PyPI) or, failing that, from a system installation. PostgreSQL refuses to run as root, so
as root the server runs as an unprivileged system user created on first use.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import tempfile
import time
import warnings
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import psycopg

from ocrmp.errors import ConfigError, DatabaseUnavailable

SERVICE_USER = "ocrmp-pg"
PASSFILE = "ocrmp.pgpass"
_SOCKET_PATH_MAX = 107  # sun_path holds 108 bytes with the final NUL


def find_bin_dir() -> Path:
    """Where initdb, pg_ctl and postgres live: pgserver's build first, then the system's."""
    try:
        with warnings.catch_warnings():  # pgserver's platformdirs warns without XDG_RUNTIME_DIR
            warnings.simplefilter("ignore")
            import pgserver

        candidate = Path(pgserver.__file__).parent / "pginstall" / "bin"
        if (candidate / "pg_ctl").exists():
            return candidate
    except ImportError:
        pass
    found = shutil.which("pg_ctl")
    if found:
        return Path(found).parent
    for candidate in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True):
        if (candidate / "pg_ctl").exists():
            return candidate
    raise ConfigError(
        "no PostgreSQL server binaries found: install the embedded extra "
        "(pip install 'ocrmp[embedded]') or set a *_DATABASE_URL"
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _check_socket_path(path: Path) -> None:
    if len(os.fsencode(path)) > _SOCKET_PATH_MAX:
        raise ConfigError(f"the embedded server's socket {path} is longer than "
                          f"{_SOCKET_PATH_MAX} bytes: choose a shorter OCRMP_DATA_DIR")


# Held while the service user is looked up and created: two processes starting servers at
# once (test workers, two pools) would otherwise both run useradd, and the loser's files end
# up owned by a uid that no longer exists. In /run, where only root creates files: in
# /run/lock any local user could hold it first and stop the pool from starting.
_USERADD_LOCK = Path("/run/ocrmp-useradd.lock")


def _service_user() -> str | None:
    """The user the server runs as: None when we are not root."""
    if os.geteuid() != 0:
        return None
    _USERADD_LOCK.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(_USERADD_LOCK, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        try:
            pwd.getpwnam(SERVICE_USER)
        except KeyError:
            subprocess.run(["useradd", "--system", "--no-create-home", "-s",
                            "/usr/sbin/nologin", SERVICE_USER], check=True, capture_output=True)
    finally:
        os.close(fd)
    return SERVICE_USER


def _make_reachable(directory: Path, user: str) -> None:
    """Create `directory` and its missing parents so the service user may pass through
    them (0711: traversed, never listed); an existing directory it cannot pass is never
    loosened: ConfigError saying which, and what to do."""
    missing = []
    existing = directory
    while not existing.exists():
        missing.append(existing)
        existing = existing.parent
    entry = pwd.getpwnam(user)
    groups = {entry.pw_gid, *os.getgrouplist(user, entry.pw_gid)}
    blocked = blocking_parent(existing, entry.pw_uid, groups)
    if blocked is not None:
        raise ConfigError(f"the embedded PostgreSQL runs as {user}, which cannot reach "
                          f"{directory}: {blocked} is mode {blocked.stat().st_mode & 0o777:o}; "
                          "choose an OCRMP_DATA_DIR it can reach (the default, "
                          "/var/lib/ocrmp, is), or give ocrmp a database (DEV_DATABASE_URL)")
    for level in reversed(missing):
        with contextlib.suppress(FileExistsError):
            level.mkdir()
            level.chmod(0o711)  # made here: its mode is ours to choose, whatever the umask


def blocking_parent(path: Path, uid: int, groups: set[int]) -> Path | None:
    """The first of path and its parents that user `uid` (in `groups`) may not pass."""
    for level in [path, *path.parents]:
        info = level.stat()
        bit = 0o100 if info.st_uid == uid else 0o010 if info.st_gid in groups else 0o001
        if not info.st_mode & bit:
            return level
    return None


@dataclass
class EmbeddedPostgres:
    """A server reachable only through a Unix socket in its own 0700 data directory, and only
    with a generated password kept in a 0600 file of the pool's user: no TCP, no trust."""

    datadir: Path
    port: int = 0  # names the socket file (.s.PGSQL.<port>); nothing listens on TCP

    def __post_init__(self) -> None:
        self.datadir = Path(self.datadir).resolve()
        self.bin_dir = find_bin_dir()
        self.user = _service_user()
        self.port = self.port or self._recorded_port() or free_port()
        _check_socket_path(self.socket_path)

    @property
    def logfile(self) -> Path:
        return self.datadir / "server.log"

    @property
    def socket_dir(self) -> Path:
        return self.datadir

    @property
    def socket_path(self) -> Path:
        return self.socket_dir / f".s.PGSQL.{self.port}"

    @property
    def passfile(self) -> Path:
        """The client's password file (libpq's format), owned by the pool's user, 0600."""
        return self.datadir / PASSFILE

    def dsn(self, dbname: str = "postgres") -> str:
        """A DSN naming the socket and the password file: it carries no secret itself."""
        return psycopg.conninfo.make_conninfo(host=str(self.socket_dir), port=str(self.port),
                                              user="postgres", dbname=dbname,
                                              passfile=str(self.passfile))

    def _run(self, tool: str, *args: str, timeout: float = 60,
             stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        cmd = [str(self.bin_dir / tool), *args]
        return subprocess.run(cmd, user=self.user, capture_output=True, text=True,
                              timeout=timeout, check=False, input=stdin,
                              stdin=None if stdin is not None else subprocess.DEVNULL)

    def _recorded_port(self) -> int | None:
        conf = self.datadir / "postgresql.auto.conf"
        if not conf.exists():
            return None
        for line in conf.read_text().splitlines():
            if line.startswith("port"):
                return int(line.split("=")[1].strip().strip("'"))
        return None

    def initialised(self) -> bool:
        return (self.datadir / "PG_VERSION").exists()

    def secured(self) -> bool:
        """Made by this version: a password file, hence socket-only and scram (older ones
        were trust on 127.0.0.1)."""
        return self.passfile.exists()

    def init(self) -> None:
        if self.user:
            _make_reachable(self.datadir.parent, self.user)
        self.datadir.mkdir(parents=True, exist_ok=True)
        if self.user:
            shutil.chown(self.datadir, self.user, self.user)
        self.datadir.chmod(0o700)
        password = secrets.token_urlsafe(32)
        with self._pwfile(password) as pwfile:
            done = self._run("initdb", "-D", str(self.datadir), "-U", "postgres",
                             "--auth=scram-sha-256", f"--pwfile={pwfile}", "--encoding=UTF8",
                             "--no-sync")
        if done.returncode != 0:
            raise DatabaseUnavailable(f"initdb failed in {self.datadir}: {done.stderr.strip()}")
        self._write_config()
        self._write_passfile(password)

    @contextlib.contextmanager
    def _pwfile(self, password: str) -> Iterator[Path]:
        """initdb's password file, readable by the server's user only, removed at once."""
        with tempfile.TemporaryDirectory(prefix="ocrmp-initdb-") as tmp:
            path = Path(tmp) / "pw"
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
            with os.fdopen(fd, "w") as out:
                out.write(password + "\n")
            if self.user:
                shutil.chown(tmp, self.user, self.user)
                shutil.chown(path, self.user, self.user)
            yield path

    def _write_config(self) -> None:
        quoted = str(self.socket_dir).replace("'", "''")
        settings = (f"port = {self.port}\nlisten_addresses = ''\n"
                    f"unix_socket_directories = '{quoted}'\nunix_socket_permissions = 0700\n"
                    "password_encryption = 'scram-sha-256'\n"
                    "fsync = off\nmax_connections = 200\nshared_buffers = 64MB\n")
        self._write_owned(self.datadir / "postgresql.auto.conf", settings)
        self._write_owned(self.datadir / "pg_hba.conf", "local all all scram-sha-256\n")

    def _write_owned(self, path: Path, text: str) -> None:
        """A server file, owned by the server's user as initdb left it."""
        path.write_text(text)
        path.chmod(0o600)
        if self.user:
            shutil.chown(path, self.user, self.user)

    def _write_passfile(self, password: str) -> None:
        tmp = self.passfile.with_suffix(".tmp")
        tmp.unlink(missing_ok=True)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(f"*:*:*:postgres:{password}\n")
        tmp.replace(self.passfile)

    def secure(self) -> None:
        """Give a server made by an older ocrmp (trust on 127.0.0.1) a password, the socket
        and scram, in single-user mode: no connection is accepted meanwhile."""
        self.stop()
        password = secrets.token_urlsafe(32)
        done = self._run("postgres", "--single", "-D", str(self.datadir), "postgres",
                         stdin=f"ALTER ROLE postgres PASSWORD '{password}';\n")
        if done.returncode != 0:
            raise DatabaseUnavailable(
                f"could not set the embedded server's password in {self.datadir}: "
                f"{done.stderr.strip().replace(password, '***')}")
        self._write_config()
        self._write_passfile(password)

    def running(self) -> bool:
        return self._run("pg_ctl", "-D", str(self.datadir), "status").returncode == 0

    def start(self) -> None:
        if not self.initialised():
            self.init()
        elif not self.secured():
            self.secure()
        if self.running():
            return
        done = self._run("pg_ctl", "-D", str(self.datadir), "-l", str(self.logfile), "-w",
                         "-t", "60", "start", timeout=90)
        if done.returncode != 0:
            tail = self.logfile.read_text()[-800:] if self.logfile.exists() else done.stderr
            raise DatabaseUnavailable(
                f"embedded PostgreSQL in {self.datadir} did not start: {tail}")

    def stop(self, mode: str = "fast") -> None:
        if self.initialised() and self.running():
            self._run("pg_ctl", "-D", str(self.datadir), "-m", mode, "-w", "stop", timeout=90)

    def restart(self, down_seconds: float = 0.0) -> None:
        self.stop()
        time.sleep(down_seconds)
        self.start()


def embedded_server(data_dir: Path) -> EmbeddedPostgres:
    """The per-user embedded server under data_dir, started (and created) on demand."""
    server = EmbeddedPostgres(data_dir / "postgres")
    server.start()
    return server


def resolve(environments: Mapping[str, str], data_dir: Path, *, migrated: bool = True,
            announce: Callable[[Path], None] | None = None) -> dict[str, str]:
    """Each environment's DSN: the configured one, else (the embedded marker) the embedded
    server's under data_dir, started on demand and, unless migrated is False, migrated.
    announce hears where that server lives before it starts."""
    from ocrmp.config import EMBEDDED
    from ocrmp.schema import migrate

    if EMBEDDED not in environments.values():
        return dict(environments)
    if announce is not None:
        announce(data_dir / "postgres")
    dsn = embedded_server(data_dir).dsn("postgres")
    if migrated:
        migrate(dsn)
    return {env: dsn if value == EMBEDDED else value for env, value in environments.items()}
