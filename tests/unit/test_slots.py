"""The shared-memory slot table, over both atomics implementations."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import uuid
from collections.abc import Iterator

import pytest

from ocrmp.atomics import AtomicOps, implementation
from ocrmp.config import MAX_POOL_SIZE
from ocrmp.pool import shm, slots
from ocrmp.pool.shm import H_MASTER_PID, H_MASTER_START_US
from ocrmp.pool.slots import (
    Command,
    ForeignSlotTable,
    Phase,
    PoolAlreadyRunning,
    SlotTable,
    SlotTableError,
    SlotTableMissing,
    TornRecord,
)
from ocrmp.vocabulary import Environment, Kind, StopReason
from tests.atomics_flavours import atomics
from tests.forking import fork, join

NSLOTS = 4


@pytest.fixture(params=["native", "pure"])
def ops(request: pytest.FixtureRequest) -> AtomicOps:
    return atomics(request.param)


@pytest.fixture
def pool() -> str:
    """A pool name of this test's own (tests run in parallel)."""
    return f"test-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def table(pool: str, ops: AtomicOps) -> Iterator[SlotTable]:
    created = SlotTable.create(pool, NSLOTS, ops=ops)
    yield created
    created.close()
    created.unlink()


def dead_pid() -> int:
    pid = fork(lambda: None)
    join(pid)
    return pid


def document_for(job_id: int) -> str:
    # Multi-byte, 62 of the field's 64 bytes: spans every word of it.
    return f"Acte n°{job_id:09d}-" + "é" * 22


def test_create_attach_snapshot_round_trip(table: SlotTable, pool: str, ops: AtomicOps) -> None:
    slot = table.slot(2)
    assert slot.spawned(pid=1234) == 1
    slot.mode = Kind.ACTE
    seq = slot.assign(env=Environment.PROD, attempt=2, document_number="2024 D 1234",
                      kind=Kind.ACTE, payload='{"id": "77"}')
    slot.update(memory_rss=300 << 20, memory_uss=250 << 20)
    slot.ended(-9, StopReason.OOM_SUSPECTED, "killed by SIGKILL (perhaps out of memory)",
               on_purpose=False)
    slot.phase = Phase.BUSY
    slot.taken_seq = seq
    slot.current_page = 3
    slot.beat()

    with SlotTable.attach(pool, ops=ops) as reader:
        seen = reader.snapshot(2)
    assert seen == table.snapshot(2)
    assert (seen.pid, seen.generation, seen.mode, seen.assign_seq) == (1234, 1, Kind.ACTE, 1)
    assert (seen.env, seen.payload, seen.attempt, seen.kind) == (
        Environment.PROD, '{"id": "77"}', 2, Kind.ACTE)
    assert seen.document_number == "2024 D 1234"
    assert seen.last_exit_reason == "killed by SIGKILL (perhaps out of memory)"
    assert seen.last_stop is StopReason.OOM_SUSPECTED
    assert (seen.last_exit_signal, seen.memory_rss, seen.restarts) == (9, 300 << 20, 1)
    assert (seen.phase, seen.current_page, seen.pending) == (Phase.BUSY, 3, False)
    assert seen.heartbeat_ns > 0
    assert table.slot(2).snapshot().document_number == "2024 D 1234"


def test_fresh_table_reads_as_dead_empty_slots(table: SlotTable) -> None:
    assert len(table) == NSLOTS
    assert all(s.phase is Phase.DEAD and s.command is Command.NONE and s.pid == 0
               for s in table.snapshots())
    assert table.master_pid == os.getpid()


def test_text_is_truncated_on_a_character_boundary(table: SlotTable) -> None:
    slot = table.slot(0)
    slot.update(document_number="€" * 30, last_exit_reason="x" * 200)
    seen = slot.snapshot()
    assert seen.document_number == "€" * 21  # 63 of the 64 bytes: no half character
    assert seen.last_exit_reason == "x" * 96
    slot.update(document_number="short")  # a shorter text leaves nothing of the old one
    assert slot.snapshot().document_number == "short"


def test_payload_round_trips_and_is_never_truncated(table: SlotTable) -> None:
    slot = table.slot(1)
    payload = '{"path": "' + "dossier/é" * 100 + '"}'
    slot.assign(env=Environment.DEV, attempt=1, document_number="D1", kind=Kind.INDEX,
                payload=payload)
    assert slot.snapshot().payload == payload
    with pytest.raises(ValueError, match="payload"):
        slot.update(payload="x" * (slots.Record.payload.capacity + 1))
    slot.update(payload="{}")  # shorter: nothing of the old text shows through
    assert slot.snapshot().payload == "{}"


def test_worker_fields_are_not_written_through_update(table: SlotTable) -> None:
    with pytest.raises(AttributeError, match="phase"):
        table.slot(0).update(phase=Phase.IDLE)


def test_slot_index_is_checked(table: SlotTable) -> None:
    with pytest.raises(IndexError):
        table.slot(NSLOTS)


@pytest.mark.parametrize("nslots", [0, MAX_POOL_SIZE + 1])
def test_slot_count_is_bounded(pool: str, nslots: int) -> None:
    with pytest.raises(SlotTableError, match="slots"):
        SlotTable.create(pool, nslots)


def test_capacity_of_256_slots(pool: str, ops: AtomicOps) -> None:
    with SlotTable.create(pool, MAX_POOL_SIZE, ops=ops) as big:
        big.slot(MAX_POOL_SIZE - 1).jobs_done = 5
        assert big.snapshot(MAX_POOL_SIZE - 1).jobs_done == 5
        big.unlink()


def test_readers_never_see_a_torn_record(table: SlotTable, pool: str, ops: AtomicOps) -> None:
    """A forked master rewrites one assignment in a tight loop; every snapshot is whole."""
    stop = table.slot(1)

    def rewrite() -> None:
        slot = table.slot(0)
        job = 0
        while stop.phase is not Phase.EXITING:
            job += 1
            slot.update(attempt=job, env=job % 3, kind=job % 2,
                        document_number=document_for(job))

    # The pure atomics take ~50 lock round trips per snapshot, and a tight writer makes
    # most of them retry: ask for fewer, still overlapping, reads there.
    enough = 200 if ops is implementation("pure") else 2_000
    writer = fork(rewrite)
    seen_jobs: set[int] = set()
    reader = SlotTable.attach(pool, ops=ops)
    try:
        for count in range(200_000):
            seen = reader.snapshot(0)
            assert seen.document_number == (document_for(seen.attempt) if seen.attempt else "")
            assert (list(Environment).index(seen.env), list(Kind).index(seen.kind)) == (
                seen.attempt % 3, seen.attempt % 2)
            seen_jobs.add(seen.attempt)
            if count >= enough and len(seen_jobs) >= 20:
                break
    finally:
        stop.phase = Phase.EXITING
        assert join(writer) == 0
        reader.close()
    assert len(seen_jobs) >= 2  # the writer really ran while we read


def test_a_record_left_half_written_is_reported(
        table: SlotTable, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(slots, "_SEQLOCK_GIVE_UP_S", 0.01)
    table.slot(0).store(slots.FIELDS["mseq"].word, 1)  # as if the master died mid-write
    with pytest.raises(TornRecord, match="slot 0"):
        table.snapshot(0)


def test_stale_table_of_a_dead_master_is_replaced(table: SlotTable, pool: str,
                                                  ops: AtomicOps) -> None:
    table.slot(0).update(attempt=99)
    ops.store(table.buf, H_MASTER_PID * 8, dead_pid())
    table.close()  # the dead master never unlinked it
    with SlotTable.create(pool, NSLOTS, ops=ops) as fresh:
        assert fresh.master_pid == os.getpid()
        assert fresh.snapshot(0).attempt == 0


def test_reused_pid_with_another_start_time_is_stale(table: SlotTable, pool: str,
                                                     ops: AtomicOps) -> None:
    ops.store(table.buf, H_MASTER_START_US * 8, 1)
    table.close()
    with SlotTable.create(pool, NSLOTS, ops=ops) as fresh:
        assert fresh.master_pid == os.getpid()


def test_garbage_segment_is_replaced(pool: str, ops: AtomicOps) -> None:
    from multiprocessing.shared_memory import SharedMemory

    junk = SharedMemory(shm.segment_name(pool), create=True, size=100)
    assert junk.buf is not None
    junk.buf[:100] = b"\xff" * 100
    junk.close()
    with SlotTable.create(pool, NSLOTS, ops=ops) as fresh:
        fresh.unlink()


def test_garbage_with_a_live_pid_is_replaced(pool: str, ops: AtomicOps) -> None:
    """Not an ocrmp table (bad magic), though it names a live process where a table would."""
    from multiprocessing.shared_memory import SharedMemory

    junk = SharedMemory(shm.segment_name(pool), create=True, size=slots.table_size(1))
    ops.store(junk.buf, 0, 12345)
    ops.store(junk.buf, H_MASTER_PID * 8, 1)
    ops.store(junk.buf, H_MASTER_START_US * 8, shm._start_us(1))
    junk.close()
    with SlotTable.create(pool, NSLOTS, ops=ops) as fresh:
        assert fresh.master_pid == os.getpid()
        fresh.unlink()


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to give a segment away")
def test_a_table_made_by_another_user_is_refused_and_left_alone(pool: str,
                                                                ops: AtomicOps) -> None:
    """Another local user pre-creates the table with a header naming a live master (pid 1)."""
    from multiprocessing.shared_memory import SharedMemory

    fake = SharedMemory(shm.segment_name(pool), create=True, size=slots.table_size(1))
    try:
        ops.store(fake.buf, H_MASTER_PID * 8, 1)
        ops.store(fake.buf, H_MASTER_START_US * 8, shm._start_us(1))
        ops.store(fake.buf, 0, shm.MAGIC)
        os.fchown(fake._fd, 65534, 65534)  # nobody
        with pytest.raises(ForeignSlotTable):
            SlotTable.create(pool, NSLOTS, ops=ops)
        assert os.stat(f"/dev/shm/{fake.name}").st_uid == 65534
    finally:
        fake.close()
        fake.unlink()


def test_live_owner_in_this_process_refuses(table: SlotTable, pool: str,
                                            ops: AtomicOps) -> None:
    with pytest.raises(PoolAlreadyRunning, match=str(os.getpid())):
        SlotTable.create(pool, NSLOTS, ops=ops)
    assert table.snapshot(0).phase is Phase.DEAD  # untouched


def test_live_owner_in_another_process_refuses(pool: str, ops: AtomicOps) -> None:
    ready_r, ready_w = os.pipe()
    go_r, go_w = os.pipe()

    def master() -> None:
        owned = SlotTable.create(pool, NSLOTS, ops=ops)
        os.write(ready_w, b"x")
        os.read(go_r, 1)
        owned.close()
        owned.unlink()

    pid = fork(master)
    try:
        assert os.read(ready_r, 1) == b"x"
        with pytest.raises(PoolAlreadyRunning, match=f"master pid {pid}"):
            SlotTable.create(pool, NSLOTS, ops=ops)
        with SlotTable.attach(pool, ops=ops) as reader:
            assert reader.master_pid == pid
    finally:
        os.write(go_w, b"x")
        assert join(pid) == 0
        for fd in (ready_r, ready_w, go_r, go_w):
            os.close(fd)
    with pytest.raises(SlotTableMissing):
        SlotTable.attach(pool, ops=ops)


def test_read_only_attach_sees_live_updates(table: SlotTable, pool: str,
                                            ops: AtomicOps) -> None:
    reader = SlotTable.attach(pool, readonly=True, ops=ops)
    step_r, step_w = os.pipe()
    next_r, next_w = os.pipe()

    def worker() -> None:
        slot = table.slot(3)
        for page in range(1, 4):
            slot.phase = Phase.BUSY
            slot.current_page = page
            os.write(step_w, b"x")
            os.read(next_r, 1)

    pid = fork(worker)
    try:
        for page in range(1, 4):
            os.read(step_r, 1)
            seen = reader.snapshot(3)
            assert (seen.phase, seen.current_page) == (Phase.BUSY, page)
            os.write(next_w, b"x")
        with pytest.raises(TypeError, match="read-only"):
            reader.slot(3).phase = Phase.IDLE
    finally:
        assert join(pid) == 0
        reader.close()
        for fd in (step_r, step_w, next_r, next_w):
            os.close(fd)


def test_attach_without_a_table_is_a_clear_error(pool: str, ops: AtomicOps) -> None:
    with pytest.raises(SlotTableMissing, match=pool):
        SlotTable.attach(pool, ops=ops)


def test_attached_table_survives_the_segment_vanishing(table: SlotTable, pool: str,
                                                       ops: AtomicOps) -> None:
    reader = SlotTable.attach(pool, ops=ops)
    table.slot(1).update(attempt=5)
    table.unlink()
    assert reader.snapshot(1).attempt == 5
    reader.close()
    with pytest.raises(SlotTableMissing):
        SlotTable.attach(pool, ops=ops)


def test_unlink_in_a_forked_worker_does_nothing(table: SlotTable, pool: str,
                                                ops: AtomicOps) -> None:
    assert join(fork(table.unlink)) == 0
    SlotTable.attach(pool, ops=ops).close()


def test_an_unrelated_process_attaching_never_unlinks(table: SlotTable, pool: str) -> None:
    """`ocrmp status` exits; its resource tracker must not take the pool's table with it."""
    script = textwrap.dedent(f"""
        from multiprocessing import resource_tracker
        from ocrmp.pool.slots import SlotTable
        table = SlotTable.attach({pool!r})
        print(table.master_pid)
        table.close()
        resource_tracker._resource_tracker._stop()  # wait for its clean-up, if any
    """)
    out = subprocess.run([sys.executable, "-c", script], check=True, capture_output=True,
                         text=True)
    assert out.stdout.strip() == str(os.getpid())
    assert "leaked" not in out.stderr
    SlotTable.attach(pool).close()


def test_segment_names_are_safe_and_distinct() -> None:
    assert shm.segment_name("prod-1") == "ocrmp-prod-1"
    odd = {shm.segment_name(name) for name in ("a b", "a_b", "a/b", "a" * 300)}
    assert len(odd) == 4
    assert all(len(name) < 255 and "/" not in name for name in odd)
    with pytest.raises(SlotTableError):
        shm.segment_name("")
