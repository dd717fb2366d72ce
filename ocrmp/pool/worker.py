"""The worker loop: wait for a job in the slot, run it, write the outcome, report.

A worker is forked by the master and never returns to the master's code: `work()` ends in
os._exit with a named code.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import logging
import os
import random
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple

from ocrmp import lifetime, logs
from ocrmp.config import Settings
from ocrmp.errors import (
    DatabaseError,
    DatabaseUnavailable,
    JobError,
    JobTakenAway,
    StaleAttempt,
    job_error_text,
)
from ocrmp.exitcodes import ExitCode
from ocrmp.flags import document_flags
from ocrmp.ocr.errors import PathTooLong
from ocrmp.pool.coordination import Coordination
from ocrmp.pool.doorbell import Doorbell
from ocrmp.pool.policy import backoff, retry_delay
from ocrmp.pool.record import DOCUMENT_NUMBER_BYTES, FOLLOW_RING, truncate_utf8
from ocrmp.pool.runners import JobRunner, load_runner
from ocrmp.pool.slots import Command, Phase, Record, Slot, SlotSnapshot
from ocrmp.store import Job, JobStore
from ocrmp.vocabulary import Status

log = logging.getLogger("ocrmp.worker")
# The longest path a slot carries, JSON-escaped: with the rest of a job (bounded) it fits
# both the master's payload (1,024 bytes) and an entry of the follow-on ring (1,152).
MAX_SLOT_PATH = 768
ACK_WAIT_S = 1.0  # at most, for the master to note follow-on jobs (it passes every 0.5 s)
HELD_CHECK_S = 1.0  # between two looks, at a page's end, whether the job is still ours

# Signals the master handles; a worker resets them so it does not act as a master.
MASTER_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGTTIN,
                  signal.SIGTTOU, signal.SIGUSR1, signal.SIGCHLD, signal.SIGQUIT)


@dataclass
class WorkerContext:
    """What a forked worker needs from its master."""

    index: int
    name: str  # ocr-worker-N, as the logs say
    settings: Settings
    slot: Slot
    bell: Doorbell  # rung by the master when it writes to this slot
    master_bell: Doorbell  # rung by this worker when its state changes
    master_pid: int
    coordination: Coordination


def reset_process(ctx: WorkerContext) -> None:
    """Make the forked child a worker: own group, default signals, fresh randomness."""
    signal.set_wakeup_fd(-1)
    for signum in MASTER_SIGNALS:
        signal.signal(signum, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the master decides what ^C means
    signal.signal(signal.SIGUSR1, _note_reopen)  # the master forwards logrotate's USR1
    signal.pthread_sigmask(signal.SIG_SETMASK, set())
    os.setpgid(0, 0)  # tesseract children die with the worker's group
    lifetime.die_with_parent()  # ... and the worker with its master (its lease then expires)
    lifetime.prepare()  # for the programs it runs: they die with it
    random.seed()
    os.environ["OMP_THREAD_LIMIT"] = "1"  # workers × threads must not exceed cores


_reopen_wanted = False


def _note_reopen(signum: int, frame: object) -> None:
    global _reopen_wanted
    _reopen_wanted = True  # acted on in the loop: a handler must not touch logging locks


def reopen_log_if_asked() -> None:
    global _reopen_wanted
    if _reopen_wanted:
        _reopen_wanted = False
        logs.reopen()


def work(ctx: WorkerContext) -> None:
    """Entry point in the child after fork. Never returns."""
    code = ExitCode.OK
    try:
        reset_process(ctx)
        code = WorkerLoop(ctx).run()
    except SystemExit as exit_:
        code = ExitCode.WORKER_BOOT_ERROR
        log.error("%s could not start: %s", ctx.name, exit_)
    except BaseException:  # a worker must never fall back into the master's code
        log.exception("%s crashed", ctx.name)
        code = ExitCode.FAILURE
    finally:
        logging.shutdown()
        os._exit(int(code))


class WorkerLoop:
    def __init__(self, ctx: WorkerContext) -> None:
        self.ctx = ctx
        self.slot = ctx.slot
        self.stores: dict[str, JobStore] = {}
        self.env = ""
        self.rng = random.Random()
        self.retried = False  # the last write was answered, after tries lost to an outage
        self.job: Job | None = None
        self.held_checked = 0.0
        self.slot.phase = Phase.STARTING
        self.slot.beat()
        try:
            self.runner: JobRunner = load_runner(ctx.settings)
        except JobError as error:
            raise SystemExit(str(error)) from error

    def run(self) -> ExitCode:
        self._set_phase(Phase.IDLE)
        while True:
            if os.getppid() != self.ctx.master_pid:
                log.warning("%s: master gone, exiting", self.ctx.name)
                return ExitCode.OK
            reopen_log_if_asked()
            snap = self.slot.snapshot()
            if snap.pending:
                self.run_job(snap)
                continue
            if snap.command in (Command.STOP, Command.RECYCLE, Command.DRAIN):
                self._set_phase(Phase.EXITING)
                return ExitCode.OK
            self.slot.beat()
            self.ctx.bell.wait(1.0)

    def _set_phase(self, phase: Phase) -> None:
        self.slot.phase = phase
        self.ctx.master_bell.ring()

    def run_job(self, snap: SlotSnapshot) -> None:
        """The job the master handed over, then each follow-on job it lets this worker
        claim with a completion, until none: then idle, for the master to decide."""
        self.slot.taken_seq = snap.assign_seq
        follow = self._run(job_from_slot(snap),
                           functools.partial(setattr, self.slot, "done_seq", snap.assign_seq))
        while follow is not None:
            seq = self._publish(follow)
            if not seq:
                break
            follow = self._run(follow, functools.partial(setattr, self.slot, "follow_done", seq))
        self._set_phase(Phase.IDLE)

    def _run(self, job: Job, finished: Callable[[], None]) -> Job | None:
        slot = self.slot
        slot.current_page = 0
        slot.job_started_ns = time.monotonic_ns()
        slot.beat()
        slot.phase = Phase.BUSY
        started = time.monotonic()
        self.env = job.env
        self.job, self.held_checked = job, started
        try:
            return self._execute(job, started)
        finally:
            finished()

    def _progress(self, pages: int) -> None:
        self.slot.current_page = pages
        self.slot.beat()
        reopen_log_if_asked()
        self._check_held()
        # A pages-per-minute limit: the next page waits for its turn (heartbeat kept).
        self.ctx.coordination.wait_for_page(self.env, self.slot.beat)

    def _check_held(self) -> None:
        """JobTakenAway once the job is no longer this attempt's (`ocrmp cancel`, a rescue):
        its next pages would be read for nothing. Looked at most every HELD_CHECK_S; an
        unreachable database is no answer, and the reading goes on."""
        now = time.monotonic()
        job = self.job
        if job is None or now - self.held_checked < HELD_CHECK_S:
            return
        self.held_checked = now
        try:
            held = self._store(job.env).still_held(job.ref)
        except DatabaseError:
            return
        if not held:
            raise JobTakenAway(f"job {job.id} attempt {job.attempt} is no longer "
                               f"{job.worker_id}'s (cancelled, rescued or requeued)")

    def _execute(self, job: Job, started: float) -> Job | None:
        """Run the job and write its outcome; the follow-on job claimed with it, if any."""
        try:
            outcome = self.runner.run(job, self._progress)
        except JobTakenAway as error:
            log.info("%s: stopped reading: %s", self.ctx.name, error)
            return None
        except JobError as error:
            self._record_failure(job, job_error_text(error), permanent=error.permanent,
                                 kind=error.kind)
            return None
        except Exception as error:  # an engine bug is this job's failure, not the worker's
            log.exception("%s: job %s failed unexpectedly", self.ctx.name, job.id)
            self._record_failure(job, f"unexpected error: {error!r}", permanent=False)
            return None
        follow: list[Job | None] = [None]
        if may_follow(self.slot):
            kind, lease_s = self.slot.follow_kind, self.ctx.settings.lease_s
            written = self._write(lambda store: follow.__setitem__(0, store.complete_and_claim(
                job.ref, outcome.text, outcome.result, outcome.pages, kind=kind,
                lease_s=lease_s)), job)
            if self.retried and follow[0] is None:
                # A try whose answer was lost may have completed it and claimed a job with
                # it, which this worker will never run: give that job back.
                self._write(lambda store: store.unclaim_follow_on(job.ref), job)
        else:
            written = self._write(lambda store: store.complete(
                job.ref, outcome.text, outcome.result, outcome.pages), job)
        if written:
            # Before jobs_done: the master reads the flags once it sees the job done.
            self.slot.job_flags = document_flags(outcome.result).to_bits()
            self.slot.jobs_done = self.slot.jobs_done + 1
            self.slot.pages_done = self.slot.pages_done + outcome.pages
            log.info("Job completed", extra={
                "worker": self.ctx.name, "job_id": job.id, "env": job.env,
                "document_number": job.document_number, "pages": outcome.pages,
                "seconds": round(time.monotonic() - started, 3)})
        return follow[0]

    def _publish(self, job: Job) -> int:
        """Write a follow-on job into the slot's ring for the master; its follow_seq (0: it
        could not be written, and the job is given back)."""
        try:
            check_path(job)
        except PathTooLong as error:  # refused for good, as the master's claim would
            self._record_failure(job, job_error_text(error), permanent=True)
            return 0
        try:
            if not self._room():
                raise ValueError("the master has not noted the last follow-on jobs")
            seq = self.slot.follow_on(follow_to_text(job, counts(self.slot)))
        except ValueError as error:
            log.warning("%s: %s; job %s given back", self.ctx.name, error, job.id)
            why = f"{self.ctx.name}: {error}"
            self._write(lambda store: store.unclaim(job.ref, why), job)
            return 0
        if seq - self.slot.follow_ack >= FOLLOW_RING // 2:
            self.ctx.master_bell.ring()  # half the ring: the master notes them now
        log.info("Claimed next job", extra={
            "worker": self.ctx.name, "job_id": job.id, "env": job.env,
            "document_number": job.document_number, "attempt": job.attempt})
        return seq

    def _room(self) -> bool:
        """Whether the ring has room for one more follow-on job, once the master has noted
        the oldest: it does at its next pass, rung now. Not while it asks something else of
        this worker (a stopping master notes nothing), nor for long."""
        slot = self.slot
        if slot.follow_seq - slot.follow_ack < FOLLOW_RING:
            return True
        self.ctx.master_bell.ring()
        deadline = time.monotonic() + ACK_WAIT_S
        while slot.follow_seq - slot.follow_ack >= FOLLOW_RING:
            left = deadline - time.monotonic()
            if slot.command != Command.NONE or left <= 0:
                return False
            slot.beat()
            self.ctx.bell.wait(left)  # the master rings once it has noted a full ring
        return True

    def _record_failure(self, job: Job, message: str, *, permanent: bool,
                        kind: str | None = None) -> None:
        delay = retry_delay(job.attempt, self.ctx.settings.retry_base_s,
                            self.ctx.settings.retry_max_s, self.rng)
        statuses: list[int] = []
        self._write(lambda store: statuses.append(store.fail(
            job.ref, message, permanent=permanent, retry_in_s=delay, kind=kind)), job)
        self.slot.jobs_failed = self.slot.jobs_failed + 1
        if statuses == [Status.ERROR]:  # failed for good: the metrics count it apart
            self.slot.jobs_errored = self.slot.jobs_errored + 1
        log.warning("Job failed", extra={
            "worker": self.ctx.name, "job_id": job.id, "env": job.env,
            "document_number": job.document_number, "permanent": permanent, "error": message})

    def _write(self, write: Callable[[JobStore], object], job: Job) -> bool:
        """Write an outcome, retrying while the database is unreachable, for at most a lease.
        After that the lease expires and rescue hands the job out again."""
        deadline = time.monotonic() + self.ctx.settings.lease_s
        failures = 0
        self.retried = False
        while True:
            try:
                write(self._store(job.env))
                self.retried = failures > 0
                return True
            except StaleAttempt as error:
                self.retried = failures > 0
                log.warning("%s: %s", self.ctx.name, error)
                return False
            except DatabaseUnavailable as error:
                if time.monotonic() > deadline:
                    log.error("%s: gave up writing job %s: %s", self.ctx.name, job.id, error)
                    return False
                self.slot.beat()
                failures += 1
                time.sleep(backoff(failures, 0.2, 5.0))
            except DatabaseError as error:
                log.error("%s: could not write job %s: %s", self.ctx.name, job.id, error)
                return False

    def _store(self, env: str) -> JobStore:
        if env not in self.stores:
            self.stores[env] = JobStore(self.ctx.settings.environments[env], env,
                                        application_name=f"ocrmp-{self.ctx.name}")
        return self.stores[env]


def check_path(job: Job) -> None:
    """Refuse a job whose path, as a slot holds it (JSON), is too long for one: raises
    PathTooLong. What else a slot or ring entry holds is bounded (a uuid, our worker id,
    counters, a document number cut to fit), so a job that passes always fits."""
    held = len(json.dumps(job.supabase_path))
    if held > MAX_SLOT_PATH:
        raise PathTooLong(job.supabase_path[:80] + "...",
                          f"{held} bytes as the slot holds it, at most {MAX_SLOT_PATH}")


def job_to_slot(slot: Slot, job: Job) -> int:
    """Write a job into a slot, each detail once: words where `ocrmp status` reads them,
    the rest as JSON in `payload`. Returns its assign_seq. Raises PathTooLong, before
    writing anything, for a path that does not fit."""
    check_path(job)
    payload = json.dumps({"id": job.id, "path": job.supabase_path, "worker_id": job.worker_id,
                          "max_attempts": job.max_attempts})
    return slot.assign(env=job.env, attempt=job.attempt, kind=job.kind,
                       document_number=job.document_number, payload=payload)


def may_follow(slot: Slot) -> bool:
    """Whether a completion may claim the next job too: the master allows it (its
    allocation, rate limit, memory, environments and the job budget: `follow_until`) and
    asks nothing else of this worker."""
    return slot.command == Command.NONE and slot.jobs_done + 1 < slot.follow_until


class Counts(NamedTuple):
    """A worker's counters at one moment (what the master's reports compare)."""

    jobs_done: int
    jobs_failed: int
    jobs_errored: int
    pages_done: int
    job_flags: int


def counts(record: Record) -> Counts:
    return Counts(record.jobs_done, record.jobs_failed, record.jobs_errored,
                  record.pages_done, record.job_flags)


def follow_to_text(job: Job, at: Counts) -> str:
    """A follow-on job as the worker writes it into its slot's ring, JSON: the whole job, and
    the counters as they were when it was claimed (the previous job's end, this one's
    start), so the master tells the two apart however late it looks. The document number
    is cut as the slot's label is: the master only shows it."""
    check_path(job)
    label = truncate_utf8(job.document_number, DOCUMENT_NUMBER_BYTES).decode()
    shown = dataclasses.replace(job, document_number=label)
    return json.dumps({"job": dataclasses.asdict(shown), "counts": at._asdict()})


def follow_from_text(text: str) -> tuple[Job, Counts]:
    data = json.loads(text)
    return Job(**data["job"]), Counts(**data["counts"])


def job_from_slot(snap: SlotSnapshot) -> Job:
    """The job the master wrote into the slot (see `job_to_slot`)."""
    payload = json.loads(snap.payload)
    return Job(id=payload["id"], document_number=snap.document_number, kind=snap.kind,
               supabase_path=payload["path"], worker_id=payload["worker_id"],
               attempt=snap.attempt, max_attempts=payload["max_attempts"], env=snap.env)
