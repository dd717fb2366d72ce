"""Done documents with flagged pages, counted and listed by the store from real rows."""

from __future__ import annotations

import psycopg
import pytest

from ocrmp.sqlfiles import queries
from ocrmp.store import FlaggedCount, JobStore
from ocrmp.vocabulary import PageFlag
from tests.flagged import insert_done, ocr_result

LOW, WORDS, HAND = PageFlag.LOW_CONFIDENCE, PageFlag.NON_WORDS, PageFlag.HANDWRITING


def fill_every_case(dsn: str) -> None:
    insert_done(dsn, "acte", ocr_result("acte", [], [LOW]))
    insert_done(dsn, "acte", ocr_result("acte", [LOW, WORDS], [], [HAND]))
    insert_done(dsn, "acte", ocr_result("acte", [], []))  # read well
    insert_done(dsn, "acte", {"kind": "acte", "pages": 1, "page_results": [{"text": "x"}]})
    insert_done(dsn, "acte", None)  # the original table's done rows have no result
    insert_done(dsn, "acte", {"skipped": "plan_cadastraux: survey plans are not OCR'd"})
    # A flagged result on a row that is no longer done (requeued, failed since) is not done.
    for status in (3, 4, 6):
        insert_done(dsn, "acte", ocr_result("acte", [LOW]), status_id=status)
    insert_done(dsn, "index", ocr_result("index", [PageFlag.TABLE_UNREAD]))


def test_counts_per_kind_and_reason_take_only_done_rows_with_flagged_pages(dsn: str) -> None:
    fill_every_case(dsn)
    store = JobStore(dsn)
    try:
        counts = store.flagged_counts()
    finally:
        store.close()
    assert counts == [FlaggedCount("acte", None, 2), FlaggedCount("acte", "handwriting", 1),
                      FlaggedCount("acte", "low_confidence", 2),
                      FlaggedCount("acte", "non_words", 1),
                      FlaggedCount("index", None, 1), FlaggedCount("index", "table_unread", 1)]


@pytest.mark.parametrize(("query", "params"), [
    ("flagged_counts", {}),
    ("flagged_documents", {"kind": None, "flags": None, "limit": 50}),
    ("flagged_documents", {"kind": "acte", "flags": ["low_confidence"], "limit": 5}),
])
def test_the_partial_index_can_serve_the_query(dsn: str, query: str,
                                               params: dict[str, object]) -> None:
    # With sequential scans priced out, a plan without the index means its predicate and
    # the query's conditions no longer match: every refresh would read every done row.
    with psycopg.connect(dsn, autocommit=True,
                         options="-c plan_cache_mode=force_generic_plan") as conn:
        conn.execute("SET enable_seqscan = off")
        plan = "\n".join(row[0] for row in conn.execute(
            ("EXPLAIN " + queries()[query]).encode(), params))
    assert "extraction_queue_ocr_flagged" in plan, plan


def test_listing_is_newest_first_with_each_flagged_page_and_its_reasons(dsn: str) -> None:
    old = insert_done(dsn, "acte", ocr_result("acte", [LOW, WORDS], [], [HAND]), minutes_ago=9)
    new = insert_done(dsn, "index", ocr_result("index", [], [PageFlag.TABLE_UNREAD]),
                      minutes_ago=1)
    insert_done(dsn, "acte", ocr_result("acte", []))
    store = JobStore(dsn)
    try:
        rows = store.flagged_documents()
        hand = store.flagged_documents(flags=["handwriting", "overlong"])
        index = store.flagged_documents(kind="index", flags=["low_confidence"])
    finally:
        store.close()
    assert [(row["id"], row["pages"]) for row in rows] == [
        (new, [{"page": 2, "flags": ["table_unread"]}]),
        (old, [{"page": 1, "flags": ["low_confidence", "non_words"]},
               {"page": 3, "flags": ["handwriting"]}])]
    assert [row["id"] for row in hand] == [old]
    assert index == []


def test_results_of_any_shape_are_listed_without_failing(dsn: str) -> None:
    odd = {"flagged_pages": [1, "two", 0, 99], "flags": {"low_confidence": 1},
           "page_results": "not a list"}
    job = insert_done(dsn, "acte", odd)
    store = JobStore(dsn)
    try:
        [row] = store.flagged_documents()
    finally:
        store.close()
    assert row["id"] == job
    assert [entry["page"] for entry in row["pages"]] == [1, "two", 0, 99]
    assert {entry["flags"] for entry in row["pages"]} == {None}
