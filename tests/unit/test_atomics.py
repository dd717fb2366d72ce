"""ocrmp.atomics: both implementations, in one process and across processes."""

from __future__ import annotations

import mmap
import os
import subprocess
import sys
import textwrap
import threading
from collections.abc import Callable, Iterator
from multiprocessing.shared_memory import SharedMemory
from pathlib import Path

import pytest

import ocrmp.atomics
from ocrmp.atomics import AtomicOps, _pure, implementation
from ocrmp.errors import PoolError
from tests.atomics_flavours import atomics

INT64_MIN, INT64_MAX = -(1 << 63), (1 << 63) - 1
PROCESSES = 4


@pytest.fixture(params=["native", "pure"])
def impl_name(request: pytest.FixtureRequest) -> str:
    name: str = request.param
    return name


@pytest.fixture
def ops(impl_name: str) -> AtomicOps:
    return atomics(impl_name)


@pytest.fixture
def shm() -> Iterator[SharedMemory]:
    segment = SharedMemory(create=True, size=4096)
    yield segment
    segment.close()
    segment.unlink()


def run_forked(count: int, body: Callable[[int], None]) -> None:
    """Run body(i) in count forked children at once; each must exit 0."""
    pids = []
    for i in range(count):
        pid = os.fork()
        if pid == 0:
            code = 1
            try:
                body(i)
                code = 0
            finally:
                os._exit(code)
        pids.append(pid)
    codes = [os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) for pid in pids]
    assert codes == [0] * count


@pytest.mark.parametrize("value", [0, 1, -1, 42, INT64_MIN, INT64_MAX])
def test_store_then_load(ops: AtomicOps, value: int) -> None:
    buf = bytearray(24)
    ops.store(buf, 8, value)
    assert ops.load(buf, 8) == value
    assert ops.load(buf, 0) == ops.load(buf, 16) == 0  # neighbours untouched


def test_cas_replaces_only_the_expected_value(ops: AtomicOps) -> None:
    buf = bytearray(8)
    ops.store(buf, 0, 5)
    assert ops.cas(buf, 0, 4, 9) is False
    assert ops.load(buf, 0) == 5
    assert ops.cas(buf, 0, 5, -9) is True
    assert ops.load(buf, 0) == -9


def test_fetch_add_returns_the_previous_value(ops: AtomicOps) -> None:
    buf = bytearray(8)
    assert ops.fetch_add(buf, 0, 3) == 0
    assert ops.fetch_add(buf, 0, -10) == 3
    assert ops.load(buf, 0) == -7


def test_fetch_add_wraps_like_a_signed_64_bit_word(ops: AtomicOps) -> None:
    buf = bytearray(8)
    ops.store(buf, 0, INT64_MAX)
    assert ops.fetch_add(buf, 0, 1) == INT64_MAX
    assert ops.load(buf, 0) == INT64_MIN


def test_works_on_mmap_and_shared_memory(ops: AtomicOps, shm: SharedMemory) -> None:
    with mmap.mmap(-1, 64) as anonymous:
        ops.store(anonymous, 56, 7)
        assert ops.load(anonymous, 56) == 7
    ops.store(shm.buf, 4088, 11)
    assert ops.fetch_add(shm.buf, 4088, 1) == 11


@pytest.mark.parametrize("offset", [1, 4, 12])
def test_misaligned_offset_is_a_value_error(ops: AtomicOps, offset: int) -> None:
    with pytest.raises(ValueError, match="aligned"):
        ops.load(bytearray(32), offset)


@pytest.mark.parametrize("offset", [-8, 32, 40, 1 << 40])
def test_offset_out_of_bounds_is_an_index_error(ops: AtomicOps, offset: int) -> None:
    buf = bytearray(32)
    for call in (lambda: ops.load(buf, offset), lambda: ops.store(buf, offset, 1),
                 lambda: ops.cas(buf, offset, 0, 1), lambda: ops.fetch_add(buf, offset, 1)):
        with pytest.raises(IndexError, match="out of bounds"):
            call()


def test_buffer_shorter_than_a_word(ops: AtomicOps) -> None:
    with pytest.raises(IndexError):
        ops.load(bytearray(4), 0)


def test_read_only_buffer_can_be_read_not_written(ops: AtomicOps) -> None:
    data = bytes(16)
    assert ops.load(data, 8) == 0
    with pytest.raises(TypeError, match="read-only"):
        ops.store(data, 8, 1)
    with pytest.raises(TypeError, match="read-only"):
        ops.fetch_add(memoryview(bytearray(16)).toreadonly(), 0, 1)


def test_value_outside_int64_is_refused(ops: AtomicOps) -> None:
    with pytest.raises(OverflowError):
        ops.store(bytearray(8), 0, INT64_MAX + 1)


def test_contended_fetch_add_across_processes(ops: AtomicOps, shm: SharedMemory) -> None:
    per_process = 1_000_000 // PROCESSES
    buf = shm.buf

    def hammer(_: int) -> None:
        add = ops.fetch_add
        for _ in range(per_process):
            add(buf, 64, 1)

    run_forked(PROCESSES, hammer)
    assert ops.load(buf, 64) == PROCESSES * per_process


def test_contended_fetch_add_across_threads(ops: AtomicOps) -> None:
    """POSIX locks do not exclude threads of one process; the pure module must still."""
    buf = bytearray(8)

    def hammer() -> None:
        for _ in range(10_000):
            ops.fetch_add(buf, 0, 1)

    threads = [threading.Thread(target=hammer) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert ops.load(buf, 0) == 40_000


def test_cas_loop_across_processes(ops: AtomicOps, shm: SharedMemory) -> None:
    per_process = 20_000
    buf = shm.buf

    def increment_by_cas(_: int) -> None:
        for _ in range(per_process):
            while True:
                seen = ops.load(buf, 128)
                if ops.cas(buf, 128, seen, seen + 1):
                    break

    run_forked(PROCESSES, increment_by_cas)
    assert ops.load(buf, 128) == PROCESSES * per_process


def test_unrelated_process_attaching_by_name(ops: AtomicOps, impl_name: str,
                                             shm: SharedMemory) -> None:
    """A process that is no fork of ours (think `ocrmp status`) shares the same atomicity."""
    increments = 20_000
    script = textwrap.dedent(f"""
        from multiprocessing import resource_tracker, shared_memory
        from ocrmp.atomics import implementation
        shm = shared_memory.SharedMemory({shm.name!r})
        resource_tracker.unregister(shm._name, "shared_memory")
        ops = implementation({impl_name!r})
        for _ in range({increments}):
            ops.fetch_add(shm.buf, 192, 1)
        shm.close()
    """)
    buf = shm.buf

    def add(_: int) -> None:
        for _ in range(increments):
            ops.fetch_add(buf, 192, 1)

    child = subprocess.Popen([sys.executable, "-c", script])
    run_forked(2, add)
    assert child.wait() == 0
    assert ops.load(shm.buf, 192) == 3 * increments


def test_environment_forces_the_pure_implementation() -> None:
    code = "import ocrmp.atomics as a; print(a.IMPLEMENTATION)"
    env = {**os.environ, "OCRMP_PUREPYTHON": "1"}
    out = subprocess.run([sys.executable, "-c", code], env=env, check=True,
                         capture_output=True, text=True).stdout
    assert out.strip() == "pure"


def chosen_in_a_child(extra_env: dict[str, str],
                      before: str = "") -> subprocess.CompletedProcess[str]:
    code = f"{before}import ocrmp.atomics as a; print(a.IMPLEMENTATION); a.load(bytearray(8), 0)"
    env = {key: value for key, value in os.environ.items()
           if key not in ("OCRMP_ATOMICS", "OCRMP_PUREPYTHON")}
    return subprocess.run([sys.executable, "-c", code], env={**env, **extra_env},
                          capture_output=True, text=True, check=False)


@pytest.mark.parametrize("name", ["native", "pure"])
def test_ocrmp_atomics_chooses_the_implementation(name: str) -> None:
    done = chosen_in_a_child({"OCRMP_ATOMICS": name})
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == [name]


def test_a_required_native_build_that_is_missing_is_an_error_not_a_fallback() -> None:
    unbuilt = "import sys; sys.modules['ocrmp._atomics'] = None; "  # as if never compiled
    done = chosen_in_a_child({"OCRMP_ATOMICS": "native"}, before=unbuilt)
    assert done.stdout.split() == ["none"]
    assert "ConfigError: OCRMP_ATOMICS=native but the C extension" in done.stderr
    fallback = chosen_in_a_child({}, before=unbuilt)
    assert fallback.returncode == 0 and fallback.stdout.split() == ["pure"]


def test_default_follows_what_is_built() -> None:
    forced = (os.environ.get("OCRMP_PUREPYTHON", "") not in ("", "0")
              or os.environ.get("OCRMP_ATOMICS") == "pure")
    expected = "pure" if forced or "native" not in ocrmp.atomics.available() else "native"
    chosen = ocrmp.atomics.IMPLEMENTATION
    assert chosen == expected


def test_unknown_implementation_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown atomics implementation"):
        implementation("quantum")


@pytest.mark.skipif(os.geteuid() != 0, reason="planting a file as another user needs root")
def test_the_lock_file_is_never_opened_through_a_link_nor_another_users(tmp_path: Path) -> None:
    chosen = tmp_path / "chosen-by-nobody"
    link = tmp_path / "ocrmp-atomics.lock"
    link.symlink_to(chosen)
    with pytest.raises(PoolError):
        _pure.open_lock_file(str(link))
    assert not chosen.exists()
    planted = tmp_path / "planted.lock"
    planted.touch()
    os.chown(planted, 65534, 65534)
    with pytest.raises(PoolError):
        _pure.open_lock_file(str(planted))
