"""Jobs and modes for the master's workers: rebalance, idle workers, claim, hand-over,
follow-on jobs, the finish of a job or its release, and --until-idle's exit.

The queue side (claims, wake-ups, leases, rescue) is the `Scheduler`'s; this module decides
which worker gets what, and keeps the slot table and the master's memory of it in step.

Follow-on jobs: a worker the master allows to (`follow_until`) claims its next job with its
completion, in one statement, instead of going idle and waiting for a master pass and the
master's claim. The master allows it only where its own claim would have given that worker
a job of that kind (`follow_kind`) anyway: no memory pressure, no jobs-per-minute limit (the
master charges every claim to it), no mode switch due for it, no other environment with
jobs of that kind waiting, nothing else asked of it (recycle, drain, stop), within its job
budget. Otherwise the worker goes idle and the master decides, as before. The master
learns each follow-on job from the slot's ring, in order, and acknowledges them at its next
pass; the worker claims no more than the ring holds unacknowledged, and rings the master
when it is half full.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable, Sequence

from ocrmp.config import Settings
from ocrmp.errors import job_error_text
from ocrmp.ocr.errors import PathTooLong
from ocrmp.pool import policy
from ocrmp.pool.contain import Containment
from ocrmp.pool.coordination import Coordination
from ocrmp.pool.every import Every
from ocrmp.pool.observe import Counted, Observer
from ocrmp.pool.record import FOLLOW_RING
from ocrmp.pool.scheduler import IdleWorker, Scheduler
from ocrmp.pool.slots import Command, Phase, Record, SlotSnapshot, SlotTable
from ocrmp.pool.worker import check_path, follow_from_text, job_to_slot
from ocrmp.pool.workerslot import SlotState
from ocrmp.store import Job
from ocrmp.vocabulary import MODES, Kind

log = logging.getLogger("ocrmp.master")
NO_BUDGET = 1 << 62  # follow_until of a worker without a job budget


class Dispatcher:
    def __init__(self, settings: Settings, slots: Sequence[SlotState],
                 table: Callable[[], SlotTable], observer: Observer,
                 coordination: Coordination, host: str, clock: Callable[[], float],
                 rng: random.Random) -> None:
        self.settings = settings
        self.slots = slots
        self.table = table
        self.observer = observer
        self.coordination = coordination
        self.host = host
        self.clock = clock
        self.scheduler = Scheduler(settings, rng, allow=self.allow_jobs, clock=clock)
        self.rebalancing = Every(lambda: self.settings.rebalance_interval_s, clock=clock)
        self.mode_target: dict[str, int] = {}
        self.containment = Containment(clock)

    def live(self) -> list[SlotState]:
        return [state for state in self.slots if state.pid]

    # -- modes ----------------------------------------------------------------------------

    def assign_initial_modes(self, desired: int) -> None:
        target = policy.allocate_modes(desired, self.scheduler.depths(),
                                       self.settings.min_index, self.settings.min_acte)
        modes = [Kind.INDEX] * target[Kind.INDEX] + [Kind.ACTE] * target[Kind.ACTE]
        table = self.table()
        for index in range(len(table)):
            table.slot(index).mode = modes[index] if index < len(modes) else MODES[index % 2]

    def rebalance(self) -> None:
        """Recompute the target allocation of modes every interval; switch idle workers to
        it on every pass (a busy worker switches when it next becomes idle)."""
        table = self.table()
        live = self.live()
        if self.rebalancing.due():
            depths = self.scheduler.refresh_depths(self.clock())
            modes = [table.slot(state.index).mode for state in live]
            current: dict[str, int] = {kind: modes.count(kind) for kind in MODES}
            self.mode_target = policy.allocate_modes(
                len(live), depths, self.settings.min_index, self.settings.min_acte, current)
        if not self.mode_target or sum(self.mode_target.values()) != len(live):
            return
        plan = [(s.index, table.slot(s.index).mode, self.is_idle(s)) for s in live]
        for index, mode in policy.plan_switches(plan, self.mode_target):
            slot = table.slot(index)
            log.info("%s mode %s → %s", self.slots[index].name, slot.mode, mode)
            slot.mode = Kind(mode)

    # -- jobs -------------------------------------------------------------------------------

    def is_idle(self, state: SlotState) -> bool:
        if not state.pid or state.leaving or state.job is not None:
            return False
        slot = self.table().slot(state.index)
        return slot.phase == Phase.IDLE and slot.command == Command.NONE

    def idle_workers(self) -> list[IdleWorker]:
        table = self.table()
        return [IdleWorker(s.index, s.worker_id(self.host, self.settings.pool_name),
                           table.slot(s.index).mode)
                for s in self.live() if self.is_idle(s)]

    def inflight(self) -> list[Job]:
        return [state.job for state in self.slots if state.job is not None]

    def serve(self, memory_pressure: bool) -> None:
        """One pass of the queue's side: finished jobs, modes, claims, leases, rescue."""
        self.collect_finished()  # first: a worker that just finished is idle for rebalance
        self.rebalance()
        if not memory_pressure:  # under the memory reserve: claim nothing until it returns
            for worker, job in self.scheduler.claim(self.clock(), self.idle_workers()):
                self.hand_over(self.slots[worker.slot], job)
        self.allow_follow_ons(memory_pressure)
        self.scheduler.renew(self.clock(), self.inflight())
        self.scheduler.rescue(self.clock())

    def hand_over(self, state: SlotState, job: Job) -> None:
        """Hand a claimed job to an idle worker. Nothing a row holds stops the master: a job
        the slot cannot carry ends in 4 with its reason, and anything unforeseen is this
        job's failure (released, its attempt counted), logged, and the pool goes on."""
        try:
            check_path(job)
            self._assign(state, job)
        except PathTooLong as error:
            log.warning("Refused job", extra={"job_id": job.id, "env": job.env,
                                              "error": job_error_text(error)})
            self.scheduler.refuse(job, job_error_text(error))
        except Exception as error:
            self.containment.contain(error, f"handing job {job.id} to {state.name}")
            self.scheduler.release(job, f"could not be handed to a worker: {error!r}",
                                   started=True)

    def _assign(self, state: SlotState, job: Job) -> None:
        slot = self.table().slot(state.index)
        self.observer.handed_over(state.index, job, slot)
        state.job, state.job_seq, state.follow = job, job_to_slot(slot, job), 0
        state.last_job = job
        state.bell.ring()
        log.info("Claimed job", extra={"worker": state.name, "job_id": job.id, "env": job.env,
                                       "document_number": job.document_number,
                                       "attempt": job.attempt})

    def collect_finished(self) -> None:
        table = self.table()
        for state in self.live():
            slot = table.slot(state.index)
            seq = self.collect(state, slot)
            if slot.follow_ack < seq:
                full = seq - slot.follow_ack >= FOLLOW_RING  # the worker waits for room
                slot.follow_ack = seq  # noted: their entries of the ring may be reused
                if full:
                    state.bell.ring()

    def collect(self, state: SlotState, slot: Record) -> int:
        """What the worker did since the last look: follow-on jobs, each claimed with the
        completion of the one before, and whether its last job is finished. Returns the
        last follow_seq seen."""
        seq = slot.follow_seq
        for n in range(max(slot.follow_ack, state.follow) + 1, seq + 1):
            job, at = follow_from_text(slot.follow_job(n))
            if state.job is not None:  # ended by the completion this job was claimed with
                self._finish(state, at)
            self.observer.handed_over(state.index, job, at)
            state.job, state.follow, state.last_job = job, n, job
            self.scheduler.took(job)
        if state.job is not None and self._done(state, slot):
            self._finish(state, slot)
        return seq

    def _done(self, state: SlotState, slot: Record) -> bool:
        return slot.follow_done >= state.follow if state.follow else \
            slot.done_seq >= state.job_seq

    def _finish(self, state: SlotState, counted: Counted) -> None:
        job, state.job = state.job, None
        assert job is not None
        self.observer.finished(state.index, job, counted)

    def allow_follow_ons(self, memory_pressure: bool) -> None:
        """Allow or forbid each worker to claim its next job itself (see the module's
        docstring); written only when it changes."""
        table = self.table()
        live = self.live()
        allowed = not memory_pressure and not self.coordination.limits_jobs()
        switching = self._switching(live)
        # The kind each would be claimed for if idle: its mode, or the other when the other
        # has more waiting than its own workers take (claim_wishes).
        kinds = dict(policy.claim_wishes([(str(s.index), table.slot(s.index).mode)
                                          for s in live], self.scheduler.depths()))
        for state in live:
            slot = table.slot(state.index)
            kind = Kind(kinds[str(state.index)])
            until = 0
            if allowed and not state.leaving and state.index not in switching and \
                    self.scheduler.waiting_in_one_env(kind):
                until = state.jobs_at_spawn + state.jobs_limit if state.jobs_limit else NO_BUDGET
            if (slot.follow_until, slot.follow_kind) != (until, kind):
                slot.update(follow_until=until, follow_kind=kind)
                state.may_follow = state.may_follow or bool(until)

    def _switching(self, live: Sequence[SlotState]) -> set[int]:
        """Workers the allocation wants in the other mode: they go idle to switch."""
        if not self.mode_target or sum(self.mode_target.values()) != len(live):
            return set()
        table = self.table()
        plan = [(state.index, table.slot(state.index).mode, True) for state in live]
        return {index for index, _ in policy.plan_switches(plan, self.mode_target)}

    def give_back(self, state: SlotState, reason: str, snap: SlotSnapshot, *,
                  operator: bool = False) -> None:
        """Release the job of a worker that died (`snap`: its slot as it left it), unless it
        finished it first; and what it may have claimed for itself unbeknown to us. A job
        its worker never started, or held when an operator stopped it, gets its attempt
        back: only the document's own doing counts one."""
        self.collect(state, snap)
        job, seq = state.job, state.job_seq
        state.job = None
        if job is not None:
            started = bool(state.follow) or snap.taken_seq >= seq
            why = f"{state.name} {'stopped' if operator else 'died'}: {reason}"
            self.scheduler.release(job, why, started=started and not operator)
            self.observer.released(state.index, job, given_back=operator)
        if state.may_follow and state.last_job is not None:
            self.scheduler.unclaim_follow_on(state.last_job)

    def allow_jobs(self, env: str, wanted: int) -> tuple[int, float]:
        allowed, retry_in = self.coordination.allow_jobs(env, wanted)
        if allowed < wanted:
            self.observer.metrics.rate_limited(env, retry_in)
        return allowed, retry_in

    def queue_drained(self) -> bool:
        """--until-idle: nothing claimable that this pool could ever serve, nothing
        running, every worker idle; ready jobs of a kind no worker reads are reported."""
        if not self.settings.until_idle or self.inflight():
            return False
        live = self.live()
        if not live or len(self.idle_workers()) < len(live):
            return False
        if not self.scheduler.last_claim_empty:
            return False
        if not all(health.reachable for health in self.scheduler.health().values()):
            return False  # a queue not read is not an empty one: wait for it
        depths = self.scheduler.refresh_depths(self.clock(), force=True)
        served, unserved = policy.servable(depths)
        if served:
            return False
        if unserved:
            log.warning("Ready jobs no worker of this pool serves, left as they are: %s",
                        ", ".join(f"{n} of kind {kind or '(none)'}" for kind, n in unserved))
        return True
