"""deploy/: the systemd units, the env file, the crontab and logrotate, checked and run.

The crontab's lines are run as cron runs them (`/bin/sh -c`, a near-empty environment),
with the host's paths (/opt/ocrmp, /etc/ocrmp, /var/log/ocrmp, /var/lib/ocrmp) moved into
the test's directory and the pool pointed at a test database.
"""

from __future__ import annotations

import configparser
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import click
import pytest

from ocrmp import config
from ocrmp.cli.pool import run as run_command
from ocrmp.confignames import Recording
from ocrmp.exitcodes import ExitCode
from ocrmp.pool.pidfile import pidfile_path, running_master
from tests.doubles import FAKE
from tests.poolrun import alive, enqueue, eventually, statuses

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
UNITS = [DEPLOY / "ocrmp.service", DEPLOY / "ocrmp@.service"]
BINARY = "/opt/ocrmp/.venv/bin/ocrmp"
ENV_FILE = "/etc/ocrmp/ocrmp.env"
# Read by the code but not meant for the env file.
NOT_DOCUMENTED = {"OCRMP_CONFIG",  # the path of the env file itself
                  "OCRMP_RUNNER"}  # test doubles and benchmarks instead of the pipeline
DOCUMENTED_ONLY = {"OCRMP_PUREPYTHON",  # read by ocrmp.atomics at import, not by Settings
                   "OCRMP_ATOMICS"}

# -- systemd ----------------------------------------------------------------------------


def read_unit(path: Path) -> configparser.ConfigParser:
    """Strict: a repeated section or key, or a line that is not KEY=VALUE, fails."""
    parser = configparser.ConfigParser(strict=True, interpolation=None, delimiters=("=",),
                                       comment_prefixes=("#", ";"))
    parser.optionxform = str  # type: ignore[assignment,method-assign]  # keys keep their case
    parser.read_string(path.read_text(), source=str(path))
    return parser


def exec_start(unit: configparser.ConfigParser) -> list[str]:
    return shlex.split(unit["Service"]["ExecStart"].replace("%i", "prod"))


@pytest.fixture(scope="module")
def run_help() -> str:
    done = subprocess.run([sys.executable, "-m", "ocrmp", "run", "--help"],
                          capture_output=True, text=True, check=True, timeout=60)
    return done.stdout


@pytest.mark.parametrize("path", UNITS, ids=lambda p: p.name)
def test_unit_runs_the_master_and_stops_it_gracefully(path: Path) -> None:
    unit = read_unit(path)
    assert set(unit.sections()) == {"Unit", "Service", "Install"}
    service = unit["Service"]
    assert service["Type"] in ("simple", "exec")
    assert service["ExecReload"] == "/bin/kill -HUP $MAINPID"
    assert service["KillSignal"] == "SIGTERM"
    assert service["KillMode"] == "mixed"
    defaults = config.Settings()
    assert config.parse_duration(service["TimeoutStopSec"]) > (
        defaults.graceful_timeout_s + defaults.kill_grace_s)
    assert service["Restart"] == "on-failure"
    assert set(service["RestartPreventExitStatus"].split()) == {
        str(int(ExitCode.CONFIG)), str(int(ExitCode.BREAKER))}
    assert service["User"] not in ("", "root")
    assert unit["Install"]["WantedBy"] == "multi-user.target"
    assert "network-online.target" in unit["Unit"]["After"].split()


@pytest.mark.parametrize("path", UNITS, ids=lambda p: p.name)
def test_unit_raises_the_descriptor_limit(path: Path) -> None:
    """Past the default soft limit of 1,024, so a burst of connections cannot starve it."""
    assert int(read_unit(path)["Service"]["LimitNOFILE"].split(":")[0]) > 1024


@pytest.mark.parametrize("path", UNITS, ids=lambda p: p.name)
def test_unit_keeps_the_slot_table_shared(path: Path) -> None:
    """The table lives in the host's /dev/shm, where `ocrmp workers` attaches to it."""
    service = read_unit(path)["Service"]
    assert service["RemoveIPC"] == "no"
    for isolating in ("PrivateDevices", "PrivateIPC", "DynamicUser"):
        assert service.get(isolating, "no") in ("no", "false", "0"), isolating


@pytest.mark.parametrize("path", UNITS, ids=lambda p: p.name)
def test_exec_start_options_are_those_of_ocrmp_run(path: Path, run_help: str) -> None:
    unit = read_unit(path)
    argv = exec_start(unit)
    assert argv[:2] == [BINARY, "run"]
    options = [arg.split("=", 1)[0] for arg in argv[2:] if arg.startswith("-")]
    assert options
    for option in options:
        assert re.search(rf"(^|\s){re.escape(option)}\b", run_help), option
    run_command.make_context("run", argv[2:])  # types and values parse too
    # One file for systemd's environment and ocrmp's --config (re-read on reload).
    config_file = argv[argv.index("--config") + 1]
    assert unit["Service"]["EnvironmentFile"].replace("%i", "prod") == config_file


def test_exec_start_check_catches_an_unknown_option() -> None:
    with pytest.raises(click.UsageError):
        run_command.make_context("run", ["--size", "2", "--max-memroy", "2G"])


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="no systemd-analyze")
@pytest.mark.parametrize("path", UNITS, ids=lambda p: p.name)
def test_systemd_analyze_verify_accepts_the_unit(path: Path, tmp_path: Path) -> None:
    installed = Path(sys.executable).parent / "ocrmp"
    if not installed.exists():
        pytest.skip("no ocrmp script next to this interpreter")
    # verify checks that ExecStart's program exists: point it at this checkout's.
    copy = tmp_path / path.name.replace("@.", "@prod.")
    copy.write_text(path.read_text().replace(BINARY, str(installed)))
    done = subprocess.run(["systemd-analyze", "verify", str(copy)], capture_output=True,
                          text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""  # unknown keys and bad values are only warnings there


# -- the env file -----------------------------------------------------------------------


def variables_read() -> set[str]:
    environ = Recording()
    config.from_env(environ)
    return environ.read


def test_env_example_documents_every_variable_and_no_other() -> None:
    text = (DEPLOY / "ocrmp.env.example").read_text()
    documented = set(re.findall(r"^#?([A-Z][A-Z0-9_]*)=", text, re.MULTILINE))
    read = variables_read()
    assert read - NOT_DOCUMENTED - documented == set(), "read by ocrmp, missing from the file"
    assert documented - read - DOCUMENTED_ONLY == set(), "in the file, read by nothing"


def test_env_example_is_a_valid_configuration() -> None:
    values = config.load_config_file(DEPLOY / "ocrmp.env.example")
    settings = config.from_env(values)
    assert settings.pool_name == "ocr-pool"
    assert settings.size == 2
    assert set(settings.environments) == {"dev"}


# -- cron -------------------------------------------------------------------------------

CRON_SPECIAL = {"@reboot", "@yearly", "@annually", "@monthly", "@weekly", "@daily",
                "@midnight", "@hourly"}
CRON_FIELDS = [(0, 59, ()), (0, 23, ()), (1, 31, ()),
               (1, 12, ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct",
                        "nov", "dec")),
               (0, 7, ("sun", "mon", "tue", "wed", "thu", "fri", "sat"))]


def cron_value(text: str, low: int, names: tuple[str, ...]) -> int | None:
    if text.lower() in names:
        return names.index(text.lower()) + low
    return int(text) if text.isdigit() else None


def valid_cron_field(text: str, low: int, high: int, names: tuple[str, ...]) -> bool:
    for part in text.split(","):
        span, slash, step = part.partition("/")
        if slash and not (step.isdigit() and int(step) > 0):
            return False
        if span == "*":
            continue
        first, dash, last = span.partition("-")
        values = [cron_value(bound, low, names) for bound in ([first, last] if dash else [first])]
        numbers = [value for value in values if value is not None]
        if len(numbers) < len(values) or not all(low <= n <= high for n in numbers):
            return False
        if numbers != sorted(numbers):  # a range runs forward: 5-1 is an error
            return False
    return True


def split_cron_line(line: str) -> tuple[list[str], str]:
    """(schedule fields, command); AssertionError when the schedule is invalid."""
    if line.startswith("@"):
        special, command = line.split(None, 1)
        assert special in CRON_SPECIAL, line
        return [special], command
    *fields, command = line.split(None, 5)
    assert len(fields) == 5, line
    for text, (low, high, names) in zip(fields, CRON_FIELDS, strict=True):
        assert valid_cron_field(text, low, high, names), f"{text!r} in {line!r}"
    return fields, command


def crontab_lines() -> list[str]:
    lines = (DEPLOY / "crontab.example").read_text().splitlines()
    return [line for line in lines if line.strip() and not line.lstrip().startswith("#")]


@pytest.mark.parametrize(("line", "valid"), [
    ("*/5 * * * * true", True), ("30 3 * * 1-5 true", True), ("0 0 1 jan sun true", True),
    ("@reboot true", True), ("61 * * * * true", False), ("*/0 * * * * true", False),
    ("5-1 * * * * true", False), ("* * * * true", False), ("@boot true", False),
])
def test_cron_schedule_check_itself(line: str, valid: bool) -> None:
    if valid:
        split_cron_line(line)
    else:
        with pytest.raises((AssertionError, ValueError)):
            split_cron_line(line)


def test_crontab_has_reboot_every_five_minutes_and_nightly_lines() -> None:
    schedules = {" ".join(split_cron_line(line)[0]): split_cron_line(line)[1]
                 for line in crontab_lines()}
    assert set(schedules) == {"@reboot", "*/5 * * * *", "30 3 * * *"}
    assert shlex.split(schedules["@reboot"])[:2] == [BINARY, "ensure"]
    assert shlex.split(schedules["*/5 * * * *"])[:2] == [BINARY, "ensure"]
    assert shlex.split(schedules["30 3 * * *"])[:2] == [BINARY, "restart"]
    for command in schedules.values():
        assert "--log-file /var/log/ocrmp/ocrmp.log" in command
        assert ">> /var/log/ocrmp/cron.log 2>&1" in command


@dataclass
class Host:
    """The test's stand-in for the host's directories, and cron's way of running things."""

    root: Path
    pool: str
    dsn: str

    @property
    def env_file(self) -> Path:
        return self.root / "etc" / "ocrmp.env"

    @property
    def log_dir(self) -> Path:
        return self.root / "log"

    @property
    def run_dir(self) -> Path:
        return self.root / "run"

    def localise(self, text: str) -> str:
        replacements = {
            BINARY: f"{shlex.quote(sys.executable)} -m ocrmp",
            ENV_FILE: str(self.env_file),
            "/var/log/ocrmp": str(self.log_dir),
            "/var/lib/ocrmp/run/ocr-pool.pid": str(pidfile_path(self.run_dir, self.pool)),
        }
        for real, here in replacements.items():
            text = text.replace(real, here)
        return text

    def cron(self, command: str) -> subprocess.CompletedProcess[str]:
        """Run a command line as cron does: sh -c, in HOME, with almost no environment."""
        environment = {"HOME": str(self.root), "LOGNAME": "ocrmp", "SHELL": "/bin/sh",
                       "PATH": "/usr/bin:/bin",
                       "PYTHONPATH": os.environ["PYTHONPATH"]}  # where the test double is
        return subprocess.run(["/bin/sh", "-c", self.localise(command)], cwd=self.root,
                              env=environment, capture_output=True, text=True, timeout=180,
                              check=False)

    def cron_log(self) -> list[str]:
        return (self.log_dir / "cron.log").read_text().splitlines()

    def master(self) -> int | None:
        return running_master(pidfile_path(self.run_dir, self.pool))


def env_file_for(host: Host) -> str:
    """The example env file, pointed at the test's database and directories."""
    values = config.load_config_file(DEPLOY / "ocrmp.env.example")
    values.update({"DEV_DATABASE_URL": host.dsn, "OCRMP_RUN_DIR": str(host.run_dir),
                   "OCRMP_DATA_DIR": str(host.root / "data"), "OCRMP_POOL_NAME": host.pool,
                   "OCRMP_POLL_INTERVAL": "1s", "OCRMP_MEMORY_RESERVE": "1%"})
    return "".join(f"{key}={value}\n" for key, value in values.items())


@pytest.fixture
def host(dsn: str, tmp_path: Path) -> Iterator[Host]:
    here = Host(tmp_path, f"t{uuid.uuid4().hex[:8]}", dsn)
    for folder in (here.env_file.parent, here.log_dir):
        folder.mkdir(parents=True)
    here.env_file.write_text(env_file_for(here))
    yield here
    stop_leftover(here)


def stop_leftover(host: Host) -> None:
    pid = host.master()
    if pid is None:
        return
    os.kill(pid, signal.SIGINT)  # release jobs, stop workers
    deadline = time.monotonic() + 30
    while alive(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    if alive(pid):
        os.kill(pid, signal.SIGKILL)


def with_fake_runner(command: str) -> str:
    return re.sub(r"ocrmp (ensure|restart) ", rf"ocrmp \1 --runner {FAKE} ", command)


def cron_commands() -> dict[str, str]:
    return {split_cron_line(line)[0][0]: with_fake_runner(split_cron_line(line)[1])
            for line in crontab_lines()}


def test_crontab_starts_keeps_restarts_and_stops_the_pool(host: Host) -> None:
    commands = cron_commands()

    booted = host.cron(commands["@reboot"])
    assert booted.returncode == 0, host.cron_log()
    first = host.master()
    assert first is not None
    assert host.cron_log()[-1] == f"started pool {host.pool!r} (master pid {first})"

    checked = host.cron(commands["*/5"])
    assert checked.returncode == 0, host.cron_log()
    assert host.cron_log()[-1] == f"pool {host.pool!r} already running (master pid {first})"

    nightly = host.cron(commands["30"])
    assert nightly.returncode == 0, host.cron_log()
    second = host.master()
    assert second is not None and second != first
    assert not alive(first)
    assert host.cron_log()[-1] == f"restarted pool {host.pool!r} (master pid {second})"

    enqueue(host.dsn, 3, "acte", "fake:sleep=0")
    eventually(lambda: statuses(host.dsn) == {5: 3}, what="the restarted pool to work")
    pool_log = (host.log_dir / "ocrmp.log").read_text()
    assert pool_log.count("ocrmp pool starting") == 2
    assert "TERM: finishing running jobs" in pool_log

    stop = host.cron(f"{BINARY} stop --config {ENV_FILE}")
    assert stop.returncode == 0, stop.stderr
    assert stop.stdout.strip() == f"stopped pool (master pid {second})"
    assert host.master() is None and not alive(second)

    again = host.cron(f"{BINARY} stop --config {ENV_FILE}")
    assert again.returncode == ExitCode.NOT_RUNNING
    assert f"no pool {host.pool!r} is running" in again.stderr


# -- logrotate --------------------------------------------------------------------------


def logrotate_config(host: Host) -> str:
    """deploy/logrotate.conf for this test: its paths, and no user switch (no ocrmp user)."""
    text = host.localise((DEPLOY / "logrotate.conf").read_text())
    text = re.sub(r"^\s*su .*\n", "", text, flags=re.MULTILINE)
    return re.sub(r"(create \d+) \S+ \S+", r"\1", text)


@pytest.mark.skipif(shutil.which("logrotate") is None, reason="no logrotate")
@pytest.mark.parametrize("line", [
    "Claimed job",  # written by the master
    "Job completed",  # written by a worker
])
def test_logrotate_moves_the_log_and_the_pool_writes_a_new_one(host: Host, line: str) -> None:
    assert host.cron(cron_commands()["@reboot"]).returncode == 0, host.cron_log()
    settings = host.root / "logrotate.conf"
    settings.write_text(logrotate_config(host))
    rotated = subprocess.run(["logrotate", "-f", "-s", str(host.root / "logrotate.state"),
                              str(settings)], capture_output=True, text=True, timeout=60,
                             check=False)
    assert rotated.returncode == 0, rotated.stderr
    old, new = host.log_dir / "ocrmp.log.1", host.log_dir / "ocrmp.log"
    assert "ocrmp pool starting" in old.read_text()
    [job_id] = enqueue(host.dsn, 1, "acte", "fake:sleep=0")
    eventually(lambda: statuses(host.dsn) == {5: 1}, what="the job to be done")
    eventually(lambda: any(line in text and job_id in text
                           for text in new.read_text().splitlines()),
               timeout=10, what=f"{line!r} in the new log")


# -- the operations page ----------------------------------------------------------------


def test_operations_page_names_only_real_commands() -> None:
    from ocrmp.cli import main

    text = (DEPLOY.parent / "docs" / "operations.md").read_text()
    blocks = re.findall(r"```sh\n(.*?)```", text, re.DOTALL)
    spans = blocks + re.findall(r"`([^`\n]+)`", re.sub(r"```.*?```", "", text, flags=re.DOTALL))
    named = {match.group(1) for span in spans
             for match in re.finditer(r"(?:^|(?<!-[ugo])\s|/)ocrmp ([a-z][a-z-]*)", span)}
    assert {"ensure", "restart", "status", "workers", "requeue"} <= named
    assert named - set(main.commands) == set()
