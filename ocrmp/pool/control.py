"""A pool controlled from outside: started in the background, its master proven before it
is signalled, and waited for until it is gone."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import psutil

from ocrmp.config import Settings
from ocrmp.errors import PoolError
from ocrmp.pool import asks, startrecord
from ocrmp.pool.pidfile import pidfile_path, proven_master, running_master
from ocrmp.rundir import check_run_dir, open_no_follow, private_run_dir

START_TIMEOUT_S = 60
STOP_MARGIN_S = 60.0


class NotRunning(PoolError):
    """No master runs for this pool."""


class StillRunning(PoolError):
    """The master did not exit in the time given."""


class StartFailed(PoolError):
    """The pool did not start."""


def master_of(settings: Settings) -> int | None:
    """The pool's running master, proven so (NotTheMaster, UnsafeRunDir otherwise)."""
    check_run_dir(settings.run_dir)
    return proven_master(pidfile_path(settings.run_dir, settings.pool_name), settings.pool_name)


def signal_master(settings: Settings, signum: int, *, drain_s: float | None = None) -> int:
    """Send signum to the proven master (for TERM, with how long to drain when asked); its
    pid, or NotRunning."""
    pid = master_of(settings)
    if pid is None:
        raise _not_running(settings)
    if drain_s is not None and signum == signal.SIGTERM:
        asks.request(settings.run_dir, settings.pool_name, asks.DRAIN, drain_s=drain_s)
    os.kill(pid, signum)
    return pid


def ask_size(settings: Settings, **change: int) -> int:
    """Ask the proven master for a size (`size=N`) or a change of it (`by=±N`): the request
    in the run directory, then TTIN; its pid, or NotRunning."""
    pid = master_of(settings)
    if pid is None:
        raise _not_running(settings)
    asks.request(settings.run_dir, settings.pool_name, asks.SCALE, **change)
    os.kill(pid, signal.SIGTTIN)
    return pid


def _not_running(settings: Settings) -> NotRunning:
    path = pidfile_path(settings.run_dir, settings.pool_name)
    return NotRunning(f"no pool {settings.pool_name!r} is running (no locked pidfile at {path})")


def stop_master(settings: Settings, signum: int, drain_s: float | None = None) -> int:
    """Signal the proven master (TERM: finish the jobs within drain_s, by default its
    graceful timeout, then give them back; INT: give them back now) and wait until it is
    gone; its pid, or NotRunning, or StillRunning when it outlives the drain by far."""
    pid = signal_master(settings, signum, drain_s=drain_s)
    timeout_s = stop_timeout(settings, signum, drain_s)
    if not wait_gone(settings, pid, timeout_s):
        raise StillRunning(f"master {pid} still running after {timeout_s:.0f}s")
    return pid


def stop_timeout(settings: Settings, signum: int, drain_s: float | None) -> float:
    """How long a stop waits for the master: its drain, the kill grace, and a margin for
    the workers' exits and the master's own."""
    if signum != signal.SIGTERM:
        drain_for = 0.0
    elif drain_s is None:  # the pool's own graceful timeout, not this shell's
        drain_for = startrecord.graceful_timeout(
            startrecord.load(settings.run_dir, settings.pool_name), settings.graceful_timeout_s)
    else:
        drain_for = drain_s
    return drain_for + settings.kill_grace_s + STOP_MARGIN_S


def wait_gone(settings: Settings, pid: int, timeout_s: float) -> bool:
    """Wait for the master to exit: its lock released, and the process itself gone (it
    releases the lock a moment before it exits)."""
    path = pidfile_path(settings.run_dir, settings.pool_name)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if running_master(path) is None and not _alive(pid):
            return True
        time.sleep(0.1)
    return False


def _alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def start_background(settings: Settings, run_args: list[str], *,
                     env: dict[str, str] | None = None, cwd: str | None = None) -> int:
    """Start `ocrmp run run_args` detached (in env and cwd, when given), its output in the
    pool's log; the master's pid once it holds the pidfile, or StartFailed."""
    log_file = settings.log_file or settings.run_dir / f"{settings.pool_name}.log"
    private_run_dir(settings.run_dir)
    command = [sys.executable, "-m", "ocrmp", "run", *run_args]
    if "--log-file" not in run_args:
        command += ["--log-file", str(log_file)]
    log_fd = open_no_follow(log_file, os.O_WRONLY | os.O_APPEND | os.O_CREAT)
    with open(os.devnull, "rb") as devnull, open(log_fd, "ab") as out:
        proc = subprocess.Popen(command, stdin=devnull, stdout=out, stderr=out,
                                start_new_session=True, env=env, cwd=cwd)
    path = pidfile_path(settings.run_dir, settings.pool_name)
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        pid = running_master(path)
        if pid is not None:
            return pid
        if proc.poll() is not None:
            raise StartFailed(f"the pool exited at start with code {proc.returncode}; "
                              f"see {log_file}")
        time.sleep(0.1)
    raise StartFailed(f"the pool did not start within {START_TIMEOUT_S}s; see {log_file}")
