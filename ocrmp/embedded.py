"""A private PostgreSQL server under a data directory, for the embedded default and tests.

The server binaries come from the `embedded` extra (pgserver ships a PostgreSQL build on
PyPI) or, failing that, from a system installation. PostgreSQL refuses to run as root, so
as root the server runs as an unprivileged system user created on first use.
"""

from __future__ import annotations

import fcntl
import os
import pwd
import shutil
import socket
import subprocess
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

from ocrmp.errors import ConfigError, DatabaseUnavailable

SERVICE_USER = "ocrmp-pg"


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


# Held while the service user is looked up and created: two processes starting servers at
# once (test workers, two pools) would otherwise both run useradd, and the loser's files end
# up owned by a uid that no longer exists.
_USERADD_LOCK = Path("/run/lock/ocrmp-useradd.lock")


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


def _open_path_to(path: Path) -> None:
    """Let the service user traverse every parent of path (root-owned temp dirs are 0700)."""
    for parent in [path, *path.parents]:
        mode = parent.stat().st_mode
        if mode & 0o011 != 0o011:
            parent.chmod(mode | 0o011)


@dataclass
class EmbeddedPostgres:
    datadir: Path
    port: int = 0
    host: str = "127.0.0.1"

    def __post_init__(self) -> None:
        self.datadir = Path(self.datadir).resolve()
        self.bin_dir = find_bin_dir()
        self.user = _service_user()
        self.port = self.port or self._recorded_port() or free_port()

    @property
    def logfile(self) -> Path:
        return self.datadir / "server.log"

    def dsn(self, dbname: str = "postgres") -> str:
        return f"postgresql://postgres@{self.host}:{self.port}/{dbname}"

    def _run(self, tool: str, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        cmd = [str(self.bin_dir / tool), *args]
        return subprocess.run(cmd, user=self.user, capture_output=True, text=True,
                              timeout=timeout, check=False, stdin=subprocess.DEVNULL)

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

    def init(self) -> None:
        self.datadir.mkdir(parents=True, exist_ok=True)
        if self.user:
            _open_path_to(self.datadir.parent)
            shutil.chown(self.datadir, self.user, self.user)
        self.datadir.chmod(0o700)
        done = self._run("initdb", "-D", str(self.datadir), "-U", "postgres", "--auth=trust",
                         "--encoding=UTF8", "--no-sync")
        if done.returncode != 0:
            raise DatabaseUnavailable(f"initdb failed in {self.datadir}: {done.stderr.strip()}")
        settings = (f"port = {self.port}\nlisten_addresses = '{self.host}'\n"
                    "unix_socket_directories = ''\nfsync = off\nmax_connections = 200\n"
                    "shared_buffers = 64MB\n")
        (self.datadir / "postgresql.auto.conf").write_text(settings)

    def running(self) -> bool:
        return self._run("pg_ctl", "-D", str(self.datadir), "status").returncode == 0

    def start(self) -> None:
        if not self.initialised():
            self.init()
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


def resolve_embedded(environments: dict[str, str], data_dir: Path) -> dict[str, str]:
    """Replace the embedded marker by the DSN of the running embedded server, migrated."""
    from ocrmp.config import EMBEDDED
    from ocrmp.schema import migrate

    if EMBEDDED not in environments.values():
        return environments
    server = embedded_server(data_dir)
    dsn = server.dsn("postgres")
    migrate(dsn)
    return {env: dsn if value == EMBEDDED else value for env, value in environments.items()}
