"""The flags a page gets from its reading (no engine)."""

from __future__ import annotations

import numpy as np

from ocrmp.ocr.verdict import Evidence, letter_share, page_flags
from ocrmp.vocabulary import PageFlag
from tests.words import word


def evidence(text: str = "Le vendeur déclare", confidence: float = 90.0, words: int = 3,
             glyphs: int = 100, letters: float = 1.0, unread: float = 0.0) -> Evidence:
    kept = [word(w, confidence, 0, 10, 20, 10) for w in text.split()][:words]
    return Evidence(text, kept, glyphs, letters, unread)


def test_a_blank_page_has_no_reading_to_doubt() -> None:
    assert page_flags(evidence(text="  ", confidence=0.0, words=0, glyphs=30), 70.0) == set()


def test_a_page_of_letter_sized_marks_read_as_nothing_is_flagged() -> None:
    unread = evidence(text="", confidence=0.0, words=0, glyphs=5000)
    assert page_flags(unread, 70.0) == {PageFlag.LOW_CONFIDENCE}


def test_low_confidence_is_flagged_under_the_threshold_only() -> None:
    assert page_flags(evidence(confidence=50.0), 70.0) == {PageFlag.LOW_CONFIDENCE}
    assert page_flags(evidence(confidence=90.0), 70.0) == set()


def test_mostly_non_words_is_flagged() -> None:
    text = " ".join(["rtkqz", "g6bré", "heLLo", "xzqwv", "vendeur"] * 2)
    assert PageFlag.NON_WORDS in page_flags(evidence(text, words=10), 70.0)
    assert PageFlag.NON_WORDS not in page_flags(evidence("Le vendeur " * 5, words=10), 70.0)


def test_more_characters_than_the_glyphs_could_print_is_overlong() -> None:
    long_text = "vendeur " * 40  # 280 characters from 50 glyphs
    assert PageFlag.OVERLONG in page_flags(evidence(long_text, glyphs=50), 70.0)
    assert PageFlag.OVERLONG not in page_flags(evidence(long_text, glyphs=300), 70.0)


def test_handwriting_needs_ink_that_is_not_typed_letters_and_a_reading_no_type_gives() -> None:
    assert PageFlag.HANDWRITING in page_flags(evidence(confidence=40, letters=0.5), 70.0)
    # Typed letters read badly (faded typing), or handwriting-like ink read as type reads.
    assert PageFlag.HANDWRITING not in page_flags(evidence(confidence=40, letters=0.9), 70.0)
    assert PageFlag.HANDWRITING not in page_flags(evidence(confidence=75, letters=0.5), 70.0)


def test_written_words_and_tall_strokes_are_not_typed_letters() -> None:
    size = 12.0
    typed = np.array([[10 * i, 0, 8, 12, 60] for i in range(30)])  # glyphs apart
    written = np.array([[0, 50, 90, 14, 400]] * 20 + [[0, 50, 6, 40, 100]] * 20)
    assert letter_share(typed, size) == 1.0
    assert letter_share(np.vstack([typed, written]), size) < 0.5
    assert letter_share(np.zeros((0, 5)), size) == 1.0  # no ink: nothing to doubt


def test_text_left_out_is_flagged_from_a_quarter_of_the_ink() -> None:
    assert page_flags(evidence(unread=0.3), 70.0) == {PageFlag.TEXT_UNREAD}
    assert page_flags(evidence(unread=0.1), 70.0) == set()  # a stamp, a margin note
