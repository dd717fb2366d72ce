"""Test doubles the pool loads by module path: `ocrmp run --runner tests.doubles:FakeRunner`
(or OCRMP_RUNNER), with its default behaviour after a third colon
(`tests.doubles:FakeRunner:sleep=0.05,pages=2`). The pool is started as a subprocess, so the
repository root must be on its PYTHONPATH (tests/conftest.py puts it there).
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ocrmp import lifetime
from ocrmp.config import parse_bytes
from ocrmp.errors import PermanentJobError, TransientJobError
from ocrmp.pool.runners import Outcome, Progress
from ocrmp.store import Job

FAKE = f"{__name__}:FakeRunner"  # the --runner value; add `:SPEC` for a default behaviour


@dataclass
class FakeBehaviour:
    """What the fake engine does with a job. Spec: `sleep=0.05,pages=2`, `crash`, `hang`,
    `hang-child`, `leak=50M`, `grow=20M`, `fail-transient`, `fail-permanent`,
    `crash-on-start`; `flag=REASON` (repeatable) flags the result's first page for that
    reason, as the OCR pipeline's result would. A document path gives its own as
    `fake:SPEC`."""

    sleep_s: float = 0.0
    pages: int = 1
    action: str = "ok"
    amount: int = 0
    options: dict[str, str] = field(default_factory=dict)
    flags: list[str] = field(default_factory=list)

    @classmethod
    def parse(cls, spec: str) -> FakeBehaviour:
        behaviour = cls()
        body = spec.removeprefix("fake:")
        for part in filter(None, body.split(",")):
            key, _, value = part.partition("=")
            if key == "sleep":
                behaviour.sleep_s = float(value)
            elif key == "pages":
                behaviour.pages = int(value)
            elif key in ("leak", "grow"):
                behaviour.action, behaviour.amount = key, parse_bytes(value)
            elif key == "flag":
                behaviour.flags.append(value)
            else:
                behaviour.action = key
        return behaviour


class FakeRunner:
    """Sleeps, fails, crashes, hangs or eats memory on purpose. A document whose path starts
    with `fake:` gets that behaviour; others get the engine's default. With
    FAKE_RUNNER_RECORD set, every execution appends `id attempt pid` to that file."""

    def __init__(self, spec: str = "") -> None:
        self.default = FakeBehaviour.parse(spec)
        if self.default.action == "crash-on-start":
            raise SystemExit("fake engine: crash on start")
        self.record = os.environ.get("FAKE_RUNNER_RECORD")
        self.kept: list[bytearray] = []

    def run(self, job: Job, progress: Progress) -> Outcome:
        behaviour = (FakeBehaviour.parse(job.supabase_path)
                     if job.supabase_path.startswith("fake:") else self.default)
        self._record(job)
        for page in range(behaviour.pages):
            self._act(behaviour, job)
            if behaviour.sleep_s:
                time.sleep(behaviour.sleep_s)
            progress(page + 1)
        text = f"fake text of {job.document_number}"
        return Outcome(text=text, result=_fake_result(behaviour), pages=behaviour.pages)

    def _record(self, job: Job) -> None:
        if self.record:
            # The wall clock orders the executions of several pools (an attempt given back
            # after a lease expiry runs again under the same number).
            line = f"{job.env} {job.id} {job.attempt} {os.getpid()} {time.time_ns()}\n".encode()
            fd = os.open(self.record, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            try:
                os.write(fd, line)
            finally:
                os.close(fd)

    def _act(self, behaviour: FakeBehaviour, job: Job) -> None:
        act = _ACTIONS.get(behaviour.action)
        if act is not None:
            act(self, behaviour, job)


def _fake_result(behaviour: FakeBehaviour) -> dict[str, Any]:
    """The shape of the pipeline's result: per-page flags, and the document's summary."""
    flags = behaviour.flags
    return {"engine": "fake", "pages": behaviour.pages,
            "flagged_pages": [1] if flags else [], "flags": dict.fromkeys(flags, 1),
            "page_results": [{"page": n + 1, "flags": flags if n == 0 else []}
                             for n in range(behaviour.pages)]}


def _touch(chunk: bytearray) -> bytearray:
    """Write every page so the memory is really resident, not just reserved."""
    chunk[::4096] = b"x" * len(chunk[::4096])
    return chunk


def _crash(runner: FakeRunner, behaviour: FakeBehaviour, job: Job) -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def _hang(runner: FakeRunner, behaviour: FakeBehaviour, job: Job) -> None:
    while True:
        time.sleep(3600)


def _hang_child(runner: FakeRunner, behaviour: FakeBehaviour, job: Job) -> None:
    # A stand-in for a stuck tesseract: a child process in our group, then a hang.
    subprocess.Popen(["sleep", "3600"], preexec_fn=lifetime.die_with_parent)
    _hang(runner, behaviour, job)


def _leak(runner: FakeRunner, behaviour: FakeBehaviour, job: Job) -> None:
    while True:  # allocate until the master kills us at the hard limit
        runner.kept.append(_touch(bytearray(behaviour.amount)))
        time.sleep(0.05)


def _grow(runner: FakeRunner, behaviour: FakeBehaviour, job: Job) -> None:
    runner.kept.append(_touch(bytearray(behaviour.amount)))  # kept: recycled at the soft limit


def _fail_transient(runner: FakeRunner, behaviour: FakeBehaviour, job: Job) -> None:
    raise TransientJobError(f"fake engine: transient failure on {job.document_number}")


def _fail_permanent(runner: FakeRunner, behaviour: FakeBehaviour, job: Job) -> None:
    raise PermanentJobError(f"fake engine: {job.document_number} is not a document")


_ACTIONS: dict[str, Callable[[FakeRunner, FakeBehaviour, Job], None]] = {
    "crash": _crash, "hang": _hang, "hang-child": _hang_child, "leak": _leak, "grow": _grow,
    "fail-transient": _fail_transient, "fail-permanent": _fail_permanent,
}
