"""`ocrmp workers`: a live slot table read from another process, as plain rows."""

from __future__ import annotations

import uuid

from ocrmp.pool.slots import Phase, SlotTable
from ocrmp.pool.view import read_slots
from ocrmp.pool.worker import job_to_slot
from ocrmp.store import Job
from ocrmp.vocabulary import Environment, Kind, StopReason


def test_a_busy_slot_shows_its_job_and_the_last_exit_its_reason() -> None:
    pool = f"test-{uuid.uuid4().hex[:12]}"
    with SlotTable.create(pool, 2) as table:
        try:
            slot = table.slot(1)
            slot.spawned(pid=4321)
            slot.mode = Kind.INDEX
            slot.ended(-15, StopReason.TIMEOUT, "killed by SIGTERM; job timeout: no progress "
                       "for 601s", on_purpose=True)
            slot.spawned(pid=4322)
            job = Job(id="42", document_number="2 345 678", kind=Kind.INDEX,
                      supabase_path="index/a.pdf", worker_id="h/p/ocr-worker-2.2", attempt=1,
                      max_attempts=3, env=Environment.STAGING)
            slot.taken_seq = job_to_slot(slot, job)
            slot.phase = Phase.BUSY
            [row] = read_slots(pool)
        finally:
            table.unlink()
    assert (row["name"], row["pid"], row["phase"], row["mode"]) == (
        "ocr-worker-2", 4322, "busy", "index")
    assert (row["job_env"], row["document_number"]) == ("staging", "2 345 678")
    assert row["last_stop"] == "timeout" and "job timeout" in row["last_exit"]
    assert (row["restarts"], row["recycles"]) == (1, 1)
