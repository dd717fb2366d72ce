"""What a result dict says of its flagged pages, and the one slot word that carries it."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from ocrmp.flags import DocumentFlags, document_flags
from ocrmp.vocabulary import PageFlag


@pytest.mark.parametrize("result", [
    None,  # the original table's rows may have no result
    "not a dict",
    {"pages": 2, "page_results": []},  # written before pages were flagged: no key
    {"flagged_pages": [], "flags": {}},
    {"flagged_pages": "1", "flags": {"low_confidence": 1}},  # not a list of pages
    {"skipped": "plan_cadastraux: survey plans are not OCR'd"},
])
def test_results_without_flagged_pages_are_unflagged(result: Any) -> None:
    assert document_flags(result) == DocumentFlags(flagged=False, reasons=frozenset())


def test_flagged_pages_with_their_reasons() -> None:
    result = {"flagged_pages": [2, 5], "flags": {"low_confidence": 2, "handwriting": 1}}
    assert document_flags(result) == DocumentFlags(
        True, frozenset({PageFlag.LOW_CONFIDENCE, PageFlag.HANDWRITING}))


def test_reasons_outside_the_closed_list_are_left_out_but_the_document_stays_flagged() -> None:
    result = {"flagged_pages": [1], "flags": {"made_up": 1, "non_words": 1}}
    assert document_flags(result) == DocumentFlags(True, frozenset({PageFlag.NON_WORDS}))
    assert document_flags({"flagged_pages": [1], "flags": ["non_words"]}) == \
        DocumentFlags(True, frozenset())


def test_every_combination_survives_the_slot_word() -> None:
    for flagged in (False, True):
        for n in range(len(PageFlag) + 1):
            for reasons in itertools.combinations(PageFlag, n):
                flags = DocumentFlags(flagged, frozenset(reasons))
                assert DocumentFlags.from_bits(flags.to_bits()) == flags
    assert DocumentFlags().to_bits() == 0  # a slot never written reads as unflagged
