"""The short fault suite: a live fleet (two fake-engine hosts on dev and prod, one real-OCR
host on staging, one PostgreSQL, one Redis) under every fault of the schedule once, then
every invariant checked from the databases, the pools' records and logs, the process table
and Redis. bench/chaos.py runs the same scenario longer and randomized."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from ocrmp.embedded import EmbeddedPostgres
from tests.faults.scenario import Scenario, memory_reserve_for_test
from tests.poolrun import eventually
from tests.servers import RedisServer

pytestmark = pytest.mark.pool  # make test runs these again with the pure atomics


def kill_busy_workers(chaos: Scenario, times: int) -> None:
    for _ in range(times):
        eventually(lambda: chaos.kill_busy_worker() is not None, timeout=60,
                   what="a busy worker to kill")
        time.sleep(1.0)


def test_no_job_lost_duplicated_or_stuck_under_faults(private_pg: EmbeddedPostgres,
                                                      redis_server: RedisServer,
                                                      tmp_path: Path) -> None:
    reserve = memory_reserve_for_test()
    began = time.monotonic()
    chaos = Scenario(private_pg, redis_server, tmp_path, seed=7, memory_reserve=reserve,
                     say=lambda text: print(f"{time.monotonic() - began:6.1f}s {text}"))
    try:
        chaos.setup()
        chaos.enqueue_poison()
        for env in ("dev", "prod"):
            chaos.enqueue_good(env, 20)
        chaos.start_pools()
        chaos.start_feeder()
        eventually(lambda: all(n >= 10 for n in chaos.done().values()), what="work under way")

        if reserve is not None:
            chaos.memory_pressure(hold_s=3.0)  # in the background, over the next faults
        kill_busy_workers(chaos, 3)
        chaos.kill_master("host2")
        eventually(lambda: chaos.at_size("host2"), timeout=60, what="host2 restarted")
        chaos.restart_postgres(down_s=1.0)
        time.sleep(2.0)
        chaos.restart_master_during_outage("host2", down_s=3.0)
        eventually(lambda: chaos.at_size("host2"), timeout=60, what="host2 serving again")
        chaos.restart_redis(down_s=3.0)
        kill_busy_workers(chaos, 2)

        chaos.say("faults done; draining")
        assert chaos.drain(), "the queues did not drain"
        chaos.say("drained; verifying")
        report = chaos.verify()
        chaos.say("verified")
    finally:
        chaos.cleanup()
    print(report.table())
    assert report.ok, report.table()
    kinds = {fault.kind for fault in report.faults}
    assert {"worker kill", "master kill", "outage restart", "postgres restart",
            "redis restart"} <= kinds
    assert reserve is None or "memory pressure" in kinds
