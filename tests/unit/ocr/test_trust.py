"""What is left out of a page as noise, and which flags a page gets (no engine)."""

from __future__ import annotations

from ocrmp.ocr.engines import Word
from ocrmp.ocr.trust import (
    Evidence,
    keep_text,
    looks_like_a_word,
    non_word_share,
    page_flags,
)
from ocrmp.vocabulary import PageFlag


def word(text: str, conf: float = 90.0, line: int = 1, left: int = 0) -> Word:
    return Word(text, conf, left, 10 * line, 20, 10, (1, 1, line))


def evidence(text: str = "Le vendeur déclare", confidence: float = 90.0, words: int = 3,
             glyphs: int = 100, cursive: float = 0.0, uncertain: bool = False,
             unread: float = 0.0) -> Evidence:
    kept = [word(w) for w in text.split()][:words]
    return Evidence(text, confidence, kept, glyphs, cursive, uncertain, unread)


def test_short_or_garbled_low_confidence_words_are_left_out_and_counted() -> None:
    words = [word("Le"), word("vendeur"), word("g6bré", conf=62), word("—", conf=35),
             word(",", conf=80), word("12", conf=25), word("ay", conf=12)]
    kept = keep_text(words)
    assert [w.text for w in kept.words] == ["Le", "vendeur", ",", "12"]
    assert kept.rejected == 3


def test_a_long_word_that_looks_like_one_is_kept_at_any_confidence() -> None:
    kept = keep_text([word("Le"), word("vendeur"), word("l'immeuble", conf=0)])
    assert [w.text for w in kept.words] == ["Le", "vendeur", "l'immeuble"]


def test_a_line_read_badly_as_a_whole_is_left_out() -> None:
    words = [word("Le", line=1), word("vendeur", line=1),
             word("HAE", conf=25, line=2), word("EEEHEE", conf=30, line=2)]
    kept = keep_text(words)
    assert [w.text for w in kept.words] == ["Le", "vendeur"] and kept.rejected == 2


def test_words_numbers_and_codes_look_like_words_noise_does_not() -> None:
    for text in ("vendeur", "l'acheteur", "Saint-Jérôme", "1987-03-12", "1 234", "T123456",
                 "CHAT", "M.", "(54)", "12e"):
        assert looks_like_a_word(text), text
    for text in ("g6bré", "EEEHEEREEE", "~=|x", "heLLo", "rtkqz"):
        assert not looks_like_a_word(text), text


def test_non_word_share_ignores_punctuation() -> None:
    words = [word(t) for t in ("Le", ",", "vendeur", "rtkqz", "—")]
    assert non_word_share(words) == 1 / 3


def test_a_blank_page_has_no_reading_to_doubt() -> None:
    assert page_flags(evidence(text="  ", confidence=0.0, words=0, glyphs=30), 70.0) == []


def test_a_page_of_letter_sized_marks_read_as_nothing_is_flagged() -> None:
    unread = evidence(text="", confidence=0.0, words=0, glyphs=5000)
    assert page_flags(unread, 70.0) == [PageFlag.LOW_CONFIDENCE]


def test_low_confidence_is_flagged_under_the_threshold_only() -> None:
    assert page_flags(evidence(confidence=50.0), 70.0) == [PageFlag.LOW_CONFIDENCE]
    assert page_flags(evidence(confidence=90.0), 70.0) == []


def test_mostly_non_words_is_flagged() -> None:
    text = " ".join(["rtkqz", "g6bré", "heLLo", "xzqwv", "vendeur"] * 2)
    assert PageFlag.NON_WORDS in page_flags(evidence(text, words=10), 70.0)
    assert PageFlag.NON_WORDS not in page_flags(evidence("Le vendeur " * 5, words=10), 70.0)


def test_more_characters_than_the_glyphs_could_print_is_overlong() -> None:
    long_text = "vendeur " * 40  # 280 characters from 50 glyphs
    assert PageFlag.OVERLONG in page_flags(evidence(long_text, glyphs=50), 70.0)
    assert PageFlag.OVERLONG not in page_flags(evidence(long_text, glyphs=300), 70.0)


def test_handwriting_needs_joined_up_ink_and_a_poor_reading() -> None:
    assert PageFlag.HANDWRITING in page_flags(evidence(confidence=40, cursive=0.7), 70.0)
    assert PageFlag.HANDWRITING not in page_flags(evidence(confidence=90, cursive=0.7), 70.0)
    assert PageFlag.HANDWRITING not in page_flags(evidence(confidence=40, cursive=0.1), 70.0)


def test_uncertain_orientation_is_flagged_even_on_a_page_read_well() -> None:
    assert page_flags(evidence(uncertain=True), 70.0) == [PageFlag.ORIENTATION_UNCERTAIN]


def test_text_left_out_is_flagged_from_a_quarter_of_the_ink() -> None:
    assert page_flags(evidence(unread=0.3), 70.0) == [PageFlag.TEXT_UNREAD]
    assert page_flags(evidence(unread=0.1), 70.0) == []  # a stamp, a margin note
