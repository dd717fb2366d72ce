"""What a queue row can hold that a pool must survive: each ends in 4 with its reason, the
other jobs end in 5, and the pool goes on."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest

from ocrmp.errors import error_kind
from ocrmp.ocr.errors import PathTooLong
from tests.doubles import FAKE
from tests.poolrun import Pool, enqueue, row, statuses

# A legal path no slot holds: the fake engine reads the part after the comma as an action
# it does not know, and does nothing.
LONG_PATH = "fake:sleep=0," + "d" * 2048


@pytest.mark.parametrize("position", ["first", "last"])
def test_a_path_too_long_for_a_slot_ends_in_4_and_the_pool_goes_on(
        dsn: str, tmp_path: Path, position: str) -> None:
    """First: the master's own claim takes it; last: a worker's follow-on claim does."""
    before = enqueue(dsn, 10, "acte", "fake:sleep=0.01") if position == "last" else []
    [long] = enqueue(dsn, 1, "acte", LONG_PATH)
    after = enqueue(dsn, 10, "acte", "fake:sleep=0.01") if position == "first" else []
    pool = Pool(dsn, tmp_path, "--size", "2", "--runner", FAKE, "--until-idle").start()
    assert pool.wait() == 0, pool.log()
    assert statuses(dsn) == {5: len(before) + len(after), 4: 1}
    assert error_kind(str(row(dsn, long)["ocr_error"])) == PathTooLong.kind
    assert long not in pool.executions()


def test_until_idle_ends_while_rows_of_a_kind_no_worker_reads_wait(
        dsn: str, tmp_path: Path) -> None:
    done = enqueue(dsn, 3, "acte", "fake:sleep=0")
    unknown = enqueue(dsn, 1, "fax", "fake:sleep=0") + enqueue(dsn, 1, "index", "fake:sleep=0")
    with psycopg.connect(dsn) as conn:
        conn.execute("UPDATE extraction_queue SET document_source = NULL WHERE id = %s",
                     (unknown[1],))
    pool = Pool(dsn, tmp_path, "--size", "1", "--runner", FAKE, "--until-idle").start()
    assert pool.wait() == 0, pool.log()
    assert statuses(dsn) == {5: len(done), 3: 2}
