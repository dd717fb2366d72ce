"""Pure decisions of the pool: mode allocation, claim wishes, backoff, recycling, breaker.

The master loop only applies these; each is unit-tested on its own.
"""

from __future__ import annotations

import random
import signal
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from ocrmp.vocabulary import MODES, OPERATOR_STOPS, Environment, Kind, StopReason

INDEX, ACTE = Kind.INDEX, Kind.ACTE


def effective_minimums(size: int, min_index: int, min_acte: int) -> dict[str, int]:
    """The minimums a pool of this size can hold: scaled down when they exceed it."""
    wanted: dict[str, int] = {INDEX: min_index, ACTE: min_acte}
    while sum(wanted.values()) > size:
        larger = max(MODES, key=lambda kind: (wanted[kind], kind == ACTE))
        wanted[larger] -= 1
    return wanted


def allocate_modes(size: int, depths: Mapping[str, int], min_index: int, min_acte: int,
                   current: Mapping[str, int] | None = None) -> dict[str, int]:
    """How many workers each mode gets: minimums first, the rest in proportion to depth.

    With no work waiting the current allocation stays (clamped to the minimums), so an idle
    pool does not churn.
    """
    floor = effective_minimums(size, min_index, min_acte)
    free = size - sum(floor.values())
    waiting = {kind: max(0, int(depths.get(kind, 0))) for kind in MODES}
    total = sum(waiting.values())
    if total == 0:
        base = dict(current) if current and sum(current.values()) == size else None
        if base is None:
            base = {INDEX: floor[INDEX] + free - free // 2, ACTE: floor[ACTE] + free // 2}
        return _clamp(base, floor, size)
    share_index = round(free * waiting[INDEX] / total)
    # A kind with work waiting gets at least one worker while there is a worker to give.
    if waiting[INDEX] and share_index == 0 and floor[INDEX] == 0 and free:
        share_index = 1
    if waiting[ACTE] and share_index == free and floor[ACTE] == 0 and free:
        share_index = free - 1
    return {INDEX: floor[INDEX] + share_index, ACTE: floor[ACTE] + free - share_index}


def _clamp(alloc: Mapping[str, int], floor: Mapping[str, int], size: int) -> dict[str, int]:
    index = min(max(alloc.get(INDEX, 0), floor[INDEX]), size - floor[ACTE])
    return {INDEX: index, ACTE: size - index}


def plan_switches(modes: Sequence[tuple[int, str, bool]],
                  target: Mapping[str, int]) -> list[tuple[int, str]]:
    """Which idle workers change mode to reach the target: [(slot, new mode)].

    modes: (slot, mode, idle) for every live worker. Busy workers never switch; the target
    is reached over later passes as they become idle.
    """
    counts: dict[str, int] = {kind: sum(1 for _, mode, _ in modes if mode == kind)
                              for kind in MODES}
    switches: list[tuple[int, str]] = []
    for slot, mode, idle in modes:
        other = other_mode(mode)
        if idle and counts[mode] > target.get(mode, 0) and counts[other] < target.get(other, 0):
            switches.append((slot, other))
            counts[mode] -= 1
            counts[other] += 1
    return switches


def claim_wishes(idle: Sequence[tuple[str, str]],
                 depths: Mapping[str, int]) -> list[tuple[str, str]]:
    """(worker_id, kind) for each idle worker: its own mode, or the other kind when its own has
    nothing waiting and the other has more than its own idle workers can take
    (work-conserving: no worker idles while a job it could do waits)."""
    own = {kind: sum(1 for _, mode in idle if mode == kind) for kind in MODES}
    spare = {kind: max(0, depths.get(kind, 0) - own[kind]) for kind in MODES}
    wishes: list[tuple[str, str]] = []
    for worker_id, mode in idle:
        other = other_mode(mode)
        if depths.get(mode, 0) <= 0 and spare[other] > 0:
            spare[other] -= 1
            wishes.append((worker_id, other))
        else:
            wishes.append((worker_id, mode))
    return wishes


def backoff(failures: int, base: float, cap: float, rng: random.Random | None = None) -> float:
    """The wait after `failures` consecutive failures: `base` after the first, doubled after
    each further one, never above `cap`. With `rng`, a random share of the upper half of that
    (from half to all of it), so processes that failed together do not retry in lockstep."""
    if failures <= 0:
        return 0.0
    ceiling = min(cap, base * 2.0 ** min(failures - 1, 64))
    return ceiling * rng.uniform(0.5, 1.0) if rng is not None else ceiling


def other_mode(mode: str) -> Kind:
    return ACTE if mode == INDEX else INDEX


def retry_delay(attempt: int, base_s: float, cap_s: float, rng: random.Random) -> float:
    """When a job that failed transiently on this attempt is tried again."""
    return backoff(max(1, attempt), base_s, cap_s, rng)


def respawn_delay(consecutive_deaths: int, base_s: float = 0.1, cap_s: float = 10.0) -> float:
    return backoff(consecutive_deaths, base_s, cap_s)


def breaker_tripped(deaths: Sequence[float], now: float, limit: int, window_s: float) -> bool:
    """Has a slot died `limit` times within the window without finishing a job?"""
    return sum(1 for at in deaths if now - at <= window_s) >= limit


@dataclass(frozen=True)
class MemoryVerdict:
    stop: StopReason | None  # MEMORY_HARD: killed now; MEMORY_SOFT: after its current job
    reason: str = ""

    @property
    def action(self) -> str:
        if self.stop is None:
            return "keep"
        return "kill" if self.stop is StopReason.MEMORY_HARD else "recycle"


def memory_verdict(rss: int, soft: int, hard: int) -> MemoryVerdict:
    if rss >= hard:
        return MemoryVerdict(StopReason.MEMORY_HARD,
                             f"memory {_mib(rss)} over the hard limit {_mib(hard)}")
    if rss >= soft:
        return MemoryVerdict(StopReason.MEMORY_SOFT,
                             f"memory {_mib(rss)} over the soft limit {_mib(soft)}")
    return MemoryVerdict(None)


def stop_reason(code: int, decided: StopReason | None) -> StopReason:
    """Why a worker ended, from what the master had decided and its exit (code, or minus
    the signal, as os.waitstatus_to_exitcode gives it): a SIGKILL no one here sent suggests
    the kernel's OOM killer; a plain exit 0 is a worker that left when told."""
    if decided is not None:
        return decided
    if code == -signal.SIGKILL:
        return StopReason.OOM_SUSPECTED
    return StopReason.STOP if code == 0 else StopReason.CRASH


def size_after_reload(desired: int, old_size: int, new_size: int) -> int:
    """The pool's size after a reload: what the configuration says when it changed the
    size, otherwise the size it had (a `scale` since the start is kept)."""
    return new_size if new_size != old_size else desired


def stopped_by_operator(code: int, decided: StopReason | None) -> bool:
    """Whether a worker ended because an operator stopped it (`OPERATOR_STOPS`), not by its
    document's doing: the master's signal killed it (TERM, or the KILL after the grace), or
    it left when told. A worker that crashed on its own meanwhile had its document's doing."""
    killed_by_us = code in (0, -signal.SIGTERM, -signal.SIGKILL)
    return decided in OPERATOR_STOPS and killed_by_us


def describe_exit(code: int, detail: str, *, boot_error: int) -> str:
    """Why a worker ended, in words: exit code or signal, then the master's reason."""
    if code >= 0:
        text = f"exit code {code}" + (" (could not boot)" if code == boot_error else "")
    else:
        text = f"killed by {signal.Signals(-code).name}"
        if -code == signal.SIGKILL and not detail:
            text += " (perhaps out of memory)"
    return f"{text}; {detail}" if detail else text


def jobs_limit(max_jobs: int, jitter: int, rng: random.Random) -> int:
    """This worker's job budget: 0 for none; jitter spreads recycles so they don't coincide."""
    if max_jobs <= 0:
        return 0
    return max_jobs + (rng.randint(0, jitter) if jitter > 0 else 0)


def capacity_target(desired: int, current: int, available: int, total: int,
                    reserve: float) -> int:
    """Workers the host can carry now: shrink by one under pressure, grow back by one when
    memory returns (a margin above the reserve, reachable even for a large reserve, avoids
    flapping)."""
    if total <= 0:
        return desired
    share = available / total
    if share < reserve:
        return max(1, min(current, desired) - 1)
    if share > reserve + min(0.05, (1 - reserve) / 2) or reserve == 0:
        return min(desired, current + 1)
    return min(current, desired)


def environment_order(enabled: Sequence[str], tick: int, every: int = 3) -> list[str]:
    """Prod first, then staging, then dev; every `every`-th pass the order rotates so a
    lower environment goes first and is never starved by a full prod queue."""
    ranked: list[str] = [env for env in Environment if env in enabled]
    if len(ranked) < 2 or tick % every != every - 1:
        return ranked
    turn = 1 + (tick // every) % (len(ranked) - 1)
    return ranked[turn:] + ranked[:turn]


def _mib(value: int) -> str:
    return f"{value / (1 << 20):.0f} MiB"


def servable(depths: Mapping[str, int]) -> tuple[int, list[tuple[str, int]]]:
    """Claimable jobs a worker can take (of a kind that is a mode), and the others by kind
    (an unknown `document_source`, or NULL, read as None): those wait for no worker of
    any pool."""
    served = sum(n for kind, n in depths.items() if kind in MODES)
    unserved = sorted(((kind, n) for kind, n in depths.items() if kind not in MODES and n),
                      key=lambda item: str(item[0]))
    return served, unserved
