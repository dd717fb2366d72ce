"""Reading a live pool's slot table from another process, for `ocrmp workers` / `status`."""

from __future__ import annotations

import contextlib
import time
from pathlib import Path
from typing import Any

from ocrmp.pool.pidfile import running_master
from ocrmp.pool.slots import EnvironmentState, Phase, SlotSnapshot, SlotTable, SlotTableError
from ocrmp.pool.worker import follow_from_text
from ocrmp.status import age_text


def read_slots(pool_name: str) -> list[dict[str, Any]]:
    """Every slot that has ever held a worker, as plain dicts (empty when no pool runs)."""
    try:
        table = SlotTable.attach(pool_name)
    except SlotTableError:  # none, or a master still creating it
        return []
    with table:
        now = time.monotonic_ns()
        return [_row(snap, now) for snap in table.snapshots() if snap.generation > 0]


def read_environments(pool_name: str) -> dict[str, dict[str, Any]]:
    """The master's view of each environment it serves: reachable, or for how long not."""
    try:
        table = SlotTable.attach(pool_name)
    except SlotTableError:
        return {}
    with table:
        seen = table.environments()
    now_ms = time.time() * 1000
    return {env: {"reachable": state == EnvironmentState.REACHABLE,
                  "unreachable_s": None if state == EnvironmentState.REACHABLE
                  else round(max(0.0, now_ms - since) / 1000, 1)}
            for env, (state, since) in seen.items()}


def _row(snap: SlotSnapshot, now_ns: int) -> dict[str, Any]:
    busy = snap.phase == Phase.BUSY
    env, document_number = snap.env.value, snap.document_number
    if snap.following:  # a job it claimed itself, not the one its master handed over
        with contextlib.suppress(ValueError, KeyError, TypeError):  # rewritten as we read
            job, _ = follow_from_text(snap.follow_job(snap.follow_seq))
            env, document_number = job.env, job.document_number
    return {
        "slot": snap.index, "name": f"ocr-worker-{snap.index + 1}", "pid": snap.pid,
        "phase": snap.phase.name.lower(), "mode": snap.mode.value,
        "generation": snap.generation,
        "job_env": env if busy else None,
        "document_number": document_number if busy else None,
        "job_seconds": round((now_ns - snap.job_started_ns) / 1e9, 1) if busy else None,
        "page": snap.current_page if busy else None,
        "jobs_done": snap.jobs_done, "pages_done": snap.pages_done,
        "jobs_failed": snap.jobs_failed, "memory_rss": snap.memory_rss,
        "memory_uss": snap.memory_uss, "restarts": max(0, snap.restarts),
        "recycles": snap.recycles, "breaker": bool(snap.breaker_tripped),
        "last_exit": snap.last_exit_reason or None,
        "last_stop": snap.last_stop.value if snap.last_exit_reason else None,
    }


def local_pools(run_dir: Path) -> list[dict[str, Any]]:
    """The pools running on this host under run_dir: name, master pid, slot rows."""
    pools = []
    for pidfile in sorted(run_dir.glob("*.pid")):
        pid = running_master(pidfile)
        if pid is not None:
            pools.append({"pool": pidfile.stem, "master_pid": pid,
                          "environments": read_environments(pidfile.stem),
                          "workers": read_slots(pidfile.stem)})
    return pools


def render_pools(pools: list[dict[str, Any]]) -> list[str]:
    lines = []
    for pool in pools:
        lines.append(f"POOL {pool['pool']} (master pid {pool['master_pid']}, this host)")
        lines.extend(_waiting_for(pool.get("environments", {})))
        lines.extend("  " + line for line in render_slots(pool["workers"]).splitlines())
    return lines


def _waiting_for(environments: dict[str, dict[str, Any]]) -> list[str]:
    return [f"  waiting for {env}: its database has been unreachable for "
            f"{age_text(seen['unreachable_s'])} (the pool retries)"
            for env, seen in sorted(environments.items()) if not seen["reachable"]]


def render_slots(rows: list[dict[str, Any]]) -> str:
    if not rows:
        return "no live pool on this host"
    header = f"{'worker':<14}{'pid':>8} {'phase':<9}{'mode':<6}{'job':<22}{'done':>6}" \
             f"{'pages':>7}{'fail':>5}{'mem MiB':>9}{'restarts':>9}  last exit"
    lines = [header]
    for row in rows:
        job = f"{row['job_env']}:{row['document_number']}" if row["document_number"] else "-"
        phase = "TRIPPED" if row["breaker"] else row["phase"]
        lines.append(f"{row['name']:<14}{row['pid']:>8} {phase:<9}{row['mode']:<6}"
                     f"{job[:21]:<22}{row['jobs_done']:>6}{row['pages_done']:>7}"
                     f"{row['jobs_failed']:>5}{row['memory_rss'] / 2**20:>9.0f}"
                     f"{row['restarts']:>9}  {row['last_exit'] or '-'}")
    return "\n".join(lines)
