"""What a local user can do to the metrics port: hold connections, say nothing, hang up."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import struct
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from ocrmp.embedded import free_port
from ocrmp.metrics import MetricsServer, PoolMetrics, serve
from tests.doubles import FAKE
from tests.poolrun import Pool, enqueue, eventually, statuses

CAP = 4
NOBODY = 65534
SYSTEM_PYTHON = shutil.which("python3", path="/usr/bin:/bin") or sys.executable


@pytest.fixture
def server() -> Iterator[MetricsServer]:
    running = serve(PoolMetrics(), stale_after_s=10, max_connections=CAP)
    yield running
    running.shutdown()


def connect(port: int, n: int) -> list[socket.socket]:
    return [socket.create_connection(("127.0.0.1", port)) for _ in range(n)]


def closed_by_server(sock: socket.socket) -> bool:
    sock.settimeout(0.01)
    try:
        return sock.recv(1) == b""
    except TimeoutError:
        return False
    except ConnectionResetError:
        return True


def test_idle_connections_past_the_cap_are_closed_and_take_no_thread(
        server: MetricsServer) -> None:
    threads = threading.active_count()
    clients = connect(server.port, 40)
    try:
        eventually(lambda: sum(closed_by_server(c) for c in clients) >= 40 - CAP,
                   what="connections past the cap closed")
        assert threading.active_count() <= threads + CAP
    finally:
        for sock in clients:
            sock.close()


def test_a_client_that_hangs_up_mid_request_leaves_no_traceback(
        server: MetricsServer, capfd: pytest.CaptureFixture[str]) -> None:
    threads = threading.active_count()
    sock = socket.create_connection(("127.0.0.1", server.port))
    sock.sendall(b"GET /metrics HTTP/1.1\r\n")  # no blank line: the server reads on
    eventually(lambda: threading.active_count() > threads, what="the request being read")
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()  # a reset, not a polite close
    eventually(lambda: threading.active_count() == threads, what="the request's thread gone")
    assert capfd.readouterr().err == ""


# Another local user's program: open so many connections and hold them until told.
_HOLDER = """
import resource, socket, sys
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
held = [socket.create_connection(("127.0.0.1", int(sys.argv[1])))
        for _ in range(int(sys.argv[2]))]
print(len(held), flush=True)
sys.stdin.read()
"""


@pytest.mark.skipif(os.geteuid() != 0, reason="connecting as another user needs root")
def test_a_thousand_idle_connections_of_another_user_leave_the_master_serving_jobs(
        dsn: str, tmp_path: Path) -> None:
    """Under the soft limit of 1,024 descriptors a unit gets by default."""
    port = free_port()
    pool = Pool(dsn, tmp_path, "--size", "1", "--runner", FAKE, "--metrics-port", str(port))
    pool.start()
    holder = None
    try:
        psutil.Process(pool.pid).rlimit(psutil.RLIMIT_NOFILE, (1024, 1024))
        eventually(lambda: _accepts(port), what="the metrics port open")
        holder = subprocess.Popen([SYSTEM_PYTHON, "-c", _HOLDER, str(port), "1100"], cwd="/",
                                  user=NOBODY, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        assert holder.stdout is not None and holder.stdout.readline() == b"1100\n"
        enqueue(dsn, 5, "acte", "fake:sleep=0")
        eventually(lambda: statuses(dsn) == {5: 5}, what="every job done")
        assert pool.proc is not None and pool.proc.poll() is None, pool.log()
    finally:
        if holder is not None:
            holder.kill()
            holder.wait()
        with contextlib.suppress(ProcessLookupError):
            pool.signal(signal.SIGTERM)
        pool.wait()


def _accepts(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port)).close()
        return True
    except OSError:
        return False
