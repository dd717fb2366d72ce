"""Chaos: the fault suite's scenario, longer and randomized.

    .venv/bin/python bench/chaos.py [--minutes 3] [--seed 1] [--no-real-ocr] [--keep]

Starts a private PostgreSQL (databases dev, prod and staging) and a private Redis, then
three pools as tests/faults does: host1 and host2 (fake engine, dev + prod, rate limits
through Redis, short leases; host1 with a memory reserve a hog can cross) and ocr (real
engine on staging, real documents and real poison). For --minutes, a fault every few
seconds, chosen at random: kill -9 of a busy worker, kill -9 of a master (restarted a few
seconds later), a master restarted while PostgreSQL is down, a PostgreSQL restart, Redis
stopped and started, host memory pressure, a poison document. A pool that exits by itself
is noted, restarted, and fails the run. Then the queues drain and every invariant is
checked (see tests/faults/scenario.py). Prints a table; exits 1 when an invariant fails.
"""

from __future__ import annotations

import argparse
import random
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.faults.scenario import (  # noqa: E402
    FAKE_POOLS,
    Report,
    Scenario,
    memory_reserve_for_test,
)
from tests.servers import RedisServer, remove_postgres, start_postgres  # noqa: E402

WEIGHTS = {"worker kill": 50, "master kill": 12, "outage restart": 5, "postgres restart": 6,
           "redis restart": 10, "memory pressure": 8, "poison": 12}


def choose(chaos: Scenario, rng: random.Random) -> str:
    # Memory pressure measures host1 shrinking and growing back: not while a master is down.
    # A master restarted during an outage must be the only master down.
    kinds = [kind for kind in WEIGHTS if kind not in chaos.busy
             and (kind != "memory pressure" or (chaos.memory_reserve is not None
                                                and "master kill" not in chaos.busy))
             and (kind != "outage restart" or not chaos.busy & {"master kill",
                                                                 "memory pressure"})]
    return rng.choices(kinds, [WEIGHTS[kind] for kind in kinds])[0]


def inject(chaos: Scenario, kind: str, rng: random.Random) -> None:
    # While host1 is under memory pressure it is meant to be small and idle: leave it be.
    targets = [name for name in FAKE_POOLS
               if name != "host1" or "memory pressure" not in chaos.busy]
    actions: dict[str, Callable[[], object]] = {
        "worker kill": lambda: chaos.kill_busy_worker(rng.choice(targets)),
        "master kill": lambda: chaos.kill_master(rng.choice(targets), rng.uniform(2.0, 5.0)),
        "outage restart": lambda: chaos.restart_master_during_outage(rng.choice(targets),
                                                                     rng.uniform(2.0, 8.0)),
        "postgres restart": lambda: chaos.restart_postgres(rng.uniform(0.5, 2.0)),
        "redis restart": lambda: chaos.restart_redis(rng.uniform(1.0, 4.0)),
        "memory pressure": lambda: chaos.memory_pressure(rng.uniform(2.0, 5.0)),
        "poison": chaos.enqueue_one_poison,
    }
    actions[kind]()


def run(minutes: float, seed: int, real_ocr: bool, workdir: Path) -> Report:
    rng = random.Random(seed)
    began = time.monotonic()

    def say(text: str) -> None:
        print(f"{time.monotonic() - began:7.1f}s {text}", flush=True)

    pg = start_postgres()
    redis_server = RedisServer(workdir / "redis")
    redis_server.start()
    reserve = memory_reserve_for_test()
    chaos = Scenario(pg, redis_server, workdir, seed=seed, real_ocr=real_ocr,
                     memory_reserve=reserve, say=say)
    try:
        chaos.setup()
        chaos.enqueue_poison()
        for env in ("dev", "prod"):
            chaos.enqueue_good(env, 20)
        chaos.start_pools()
        chaos.start_feeder()
        say(f"pools started; host1 memory reserve "
            f"{'none' if reserve is None else f'{reserve:.1%}'}")
        time.sleep(5.0)
        deadline = time.monotonic() + minutes * 60
        while time.monotonic() < deadline:
            time.sleep(rng.uniform(1.0, 4.0))
            chaos.check_pools()
            inject(chaos, choose(chaos, rng), rng)
        say("faults done; draining")
        drained = chaos.drain(timeout=300)
        say("drained" if drained else "NOT drained within 300s")
        report = chaos.verify()
        if not drained:
            report.problems.append("the queues did not drain within 300s")
        return report
    finally:
        chaos.cleanup()
        redis_server.stop()
        remove_postgres(pg)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=3.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--no-real-ocr", dest="real_ocr", action="store_false",
                        help="skip the real-engine pool (no tesseract needed)")
    parser.add_argument("--keep", action="store_true", help="keep the logs and records")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="ocrmp-chaos-"))
    try:
        report = run(args.minutes, args.seed, args.real_ocr, workdir)
    finally:
        if args.keep:
            print(f"logs and records kept in {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    print()
    print(f"chaos: {args.minutes:g} min, seed {args.seed}")
    print(report.table())
    print("OK: no job lost, duplicated or stuck" if report.ok else "FAILED")
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
