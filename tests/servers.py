"""Private PostgreSQL and Redis servers for the test suite, on free loopback ports."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import redis

from ocrmp.embedded import EmbeddedPostgres, free_port


class RedisServer:
    """A redis-server process that keeps nothing on disk."""

    def __init__(self, workdir: Path, port: int = 0) -> None:
        self.workdir = workdir
        self.port = port or free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            raise RuntimeError("redis-server not found: `make test` installs it (apt redis-server)")
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.proc = subprocess.Popen(
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(self.workdir)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        client = redis.Redis.from_url(self.url)
        for _ in range(200):
            try:
                client.ping()
                return
            except redis.ConnectionError:
                time.sleep(0.02)
        raise RuntimeError(f"redis-server on port {self.port} did not start")

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(10)
            self.proc = None


def start_postgres() -> EmbeddedPostgres:
    """A private server in a directory of its own outside pytest's temp tree: pytest resets
    that tree to mode 0700, which would lock out the server's unprivileged user. Its
    directory is opened to it here (ocrmp never loosens a directory it did not make)."""
    home = Path(tempfile.mkdtemp(prefix="ocrmp-test-pg-"))
    home.chmod(0o711)
    server = EmbeddedPostgres(home / "data")
    server.start()
    return server


def remove_postgres(server: EmbeddedPostgres) -> None:
    server.stop("immediate")
    shutil.rmtree(server.datadir.parent, ignore_errors=True)
