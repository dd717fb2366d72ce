"""What `ocrmp status` shows of the queue of every enabled environment and of the fleet (the
pools running on this host are the pool's own view). Gathering returns plain data;
rendering is separate."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from ocrmp.config import Settings
from ocrmp.errors import OcrmpError
from ocrmp.store import OPERATOR_STATEMENT_S, FlaggedCount, JobStore, StatusCount
from ocrmp.vocabulary import Status


def _empty_entry() -> dict[str, Any]:
    return {status.label: 0 for status in Status} | {
        "claimable": 0, "backoff": 0, "exhausted": 0, "stuck": 0, "oldest_ready_s": None,
        "flagged": 0, "flags": {}}


def queue_summary(counts: Sequence[StatusCount],
                  flagged: Sequence[FlaggedCount] = ()) -> dict[str, dict[str, Any]]:
    """Per kind: counts by status name, the claimability details of ready jobs, and the
    done documents with flagged pages (`flagged`; by reason, `flags`)."""
    kinds: dict[str, dict[str, Any]] = {}
    for count in counts:
        entry = kinds.setdefault(count.kind or "(none)", _empty_entry())
        entry[Status.label_of(count.status_id)] = count.total
        for field in ("claimable", "backoff", "exhausted", "stuck"):
            entry[field] += getattr(count, field)
        if count.oldest_ready_s is not None:
            entry["oldest_ready_s"] = round(count.oldest_ready_s, 1)
    for flags in flagged:
        entry = kinds.setdefault(flags.kind or "(none)", _empty_entry())
        if flags.reason is None:
            entry["flagged"] = flags.documents
        else:
            entry["flags"][flags.reason] = flags.documents
    return kinds


def environment_status(env: str, dsn: str) -> dict[str, Any]:
    store = JobStore(dsn, env, application_name="ocrmp-status",
                     statement_timeout_s=OPERATOR_STATEMENT_S)
    try:
        return {"reachable": True,
                "kinds": queue_summary(store.stats(), store.flagged_counts())}
    except OcrmpError as error:
        return {"reachable": False, "error": str(error), "kinds": {}}
    finally:
        store.close()


def fleet_status(redis_url: str | None) -> dict[str, Any]:
    if not redis_url:
        return {"configured": False, "pools": []}
    from ocrmp.fleet import FleetRegistry, redis_client

    registry = FleetRegistry(redis_client(redis_url))
    try:
        pools = registry.list_pools()
        return {"configured": True, "pools": [
            pool.to_dict() | {"workers": [w.to_dict() for w in
                                          registry.list_workers(pool.host, pool.pool)]}
            for pool in pools]}
    except OcrmpError as error:
        return {"configured": True, "error": str(error), "pools": []}


def gather(settings: Settings) -> dict[str, Any]:
    return {
        "time": time.time(),
        "environments": {env: environment_status(env, dsn)
                         for env, dsn in settings.environments.items()},
        "rate_limits": list(settings.rate_limits),
        "fleet": fleet_status(settings.redis_url),
    }


def age_text(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    if seconds < 120:
        return f"{seconds:.0f}s"
    if seconds < 7200:
        return f"{seconds / 60:.0f}m"
    return f"{seconds / 3600:.1f}h"


def modes_text(modes: Any) -> str:
    """A pool's workers per mode, for people: `index 1, acte 1`."""
    if isinstance(modes, dict):
        return ", ".join(f"{mode} {count}" for mode, count in modes.items()) or "none"
    return str(modes)


def unreachable(status: dict[str, Any]) -> list[str]:
    """The environments whose database could not be read."""
    return [env for env, info in status["environments"].items() if not info["reachable"]]


def render(status: dict[str, Any]) -> str:
    lines = ["QUEUE"]
    header = (f"  {'env':<8}{'kind':<17}{'ready':>7}{'claim':>7}{'backoff':>8}{'exhaust':>8}"
              f"{'running':>8}{'stuck':>6}{'done':>8}{'flagged':>8}{'error':>7}{'oldest':>8}")
    lines.append(header)
    for env, info in status["environments"].items():
        if not info["reachable"]:
            lines.append(f"  {env:<8}unreachable: {info['error']}")
            continue
        if not info["kinds"]:
            lines.append(f"  {env:<8}(empty)")
        for kind, row in sorted(info["kinds"].items()):
            lines.append(f"  {env:<8}{kind:<17}{row['ready']:>7}{row['claimable']:>7}"
                         f"{row['backoff']:>8}{row['exhausted']:>8}{row['running']:>8}"
                         f"{row['stuck']:>6}{row['done']:>8}{row['flagged']:>8}"
                         f"{row['error']:>7}"
                         f"{age_text(row['oldest_ready_s']):>8}")
    if status["rate_limits"]:
        lines.append("RATE LIMITS  " + ", ".join(status["rate_limits"]))
    fleet = status["fleet"]
    if fleet["configured"]:
        lines.append("FLEET" + (f"  (unreachable: {fleet['error']})" if "error" in fleet else ""))
        for pool in fleet["pools"]:
            busy = sum(1 for w in pool["workers"] if w["phase"] == "busy")
            lines.append(f"  {pool['host']}/{pool['pool']}  pid {pool['pid']}  size "
                         f"{pool['size']}  busy {busy}  modes {modes_text(pool['modes'])}  "
                         f"rate limiter {pool['ratelimit_state']}  v{pool['version']}")
            for env, limit in pool.get("rate_limits", {}).items():
                held = pool.get("rate_limit_wait_s", {}).get(env, 0.0)
                lines.append(f"    limit {env}: {limit}, claims held back {held:.1f}s so far")
    return "\n".join(lines)
