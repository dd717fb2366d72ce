"""Where `ocrmp logs` looks: a master's --log-file, or the systemd unit it runs as."""

from __future__ import annotations

from pathlib import Path

from ocrmp.pool.logsource import log_file_of, systemd_unit


def test_the_log_file_of_a_command_line_in_either_spelling() -> None:
    assert log_file_of(["ocrmp", "run", "--log-file", "/var/log/o.log"]) == Path("/var/log/o.log")
    assert log_file_of(["ocrmp", "run", "--log-file=/var/log/o.log"]) == Path("/var/log/o.log")
    assert log_file_of(["ocrmp", "run", "--size", "2"]) is None


def test_a_service_of_systemd_is_named_by_its_cgroup() -> None:
    cgroup = "0::/system.slice/ocrmp@prod.service\n"
    assert systemd_unit(cgroup, b"PATH=/bin\0INVOCATION_ID=abc\0") == "ocrmp@prod.service"


def test_a_process_systemd_did_not_start_has_no_unit() -> None:
    """cron's jobs sit in cron.service's cgroup without systemd's INVOCATION_ID."""
    assert systemd_unit("0::/system.slice/cron.service\n", b"PATH=/bin\0") is None
    assert systemd_unit("0::/user.slice/user-1000.slice/session-3.scope\n",
                        b"INVOCATION_ID=abc\0") is None
