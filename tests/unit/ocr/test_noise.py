"""What is left out of a page as noise (no engine)."""

from __future__ import annotations

from ocrmp.ocr.geometry import Word
from ocrmp.ocr.noise import keep_text, looks_like_a_word, non_word_share
from tests.words import word as placed


def word(text: str, conf: float = 90.0, line: int = 1, left: int = 0) -> Word:
    return placed(text, conf, left, 40 * line, 20 * len(text), 30, (1, 1, line))


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


def test_a_misread_word_among_words_read_surely_is_kept() -> None:
    # "efface" read "efä&ce": a word the engine misread, where the line around it reads well.
    words = [word("la", line=1), word("neige", line=1), word("efä&ce", conf=60, line=2),
             word("nos", line=2), word("sentiers.", line=2)]
    kept = keep_text(words)
    assert [w.text for w in kept.words] == ["la", "neige", "efä&ce", "nos", "sentiers."]


def test_a_garbled_word_in_a_line_of_doubtful_words_is_still_noise() -> None:
    words = [word("g6bré", conf=62, line=1), word("ay", conf=40, line=1),
             word("vendeur", conf=70, line=1)]
    kept = keep_text(words)
    assert "g6bré" not in [w.text for w in kept.words]
