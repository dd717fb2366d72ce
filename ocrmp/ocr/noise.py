"""Words left out as noise: specks, stamps and pen strokes the engine read as text.

Pure functions of the engine's words. On real scans such marks come out as short words read
at a very low confidence, or as strings no language writes ("EEHEE", "g6bré", "~=|") read
at a low one, or as whole lines of either; leaving those out lowered both the character and
the bag-of-words error there (bench/RESULTS.md). Words left out are counted
(`rejected_words`), not written. A long word that looks like a word is kept whatever its
confidence: tesseract gives French words with an apostrophe ("l'immeuble") a confidence
near 0 when it reads them right.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from ocrmp.ocr.geometry import LineKey, Word, engine_lines, mean_confidence

NOISE_CONFIDENCE, NOISE_LENGTH = 20.0, 4  # a word this short read with less is noise
GARBLED_CONFIDENCE = 70.0  # ... and a non-word or a lone mark read with less
NOISE_LINE_CONFIDENCE = 30.0  # a line whose words average less is noise whole
NON_WORD_SHARE = 0.5  # words mostly not of a language: noise, or a page to flag
SOUND_CONFIDENCE = 80.0  # a word of a language read this surely vouches for its line...
SOUND_NEIGHBOURS = 2  # ...and this many such words, most of the line, keep a misread word

_LETTER_OR_DIGIT = re.compile(r"\w", re.UNICODE)
_VOWEL = re.compile(r"[aeiouyàâäéèêëîïôöùûüÿœæ]", re.IGNORECASE)
_TRIPLED = re.compile(r"(\w)\1\1", re.IGNORECASE)  # no word of French or English
_PARTS = re.compile(r"[-'’.]")  # Saint-Jérôme, l'acte, M.
EDGE_PUNCTUATION = ".,;:!?()[]{}«»\"'’‘“”-–—/"


@dataclass(frozen=True)
class Kept:
    words: list[Word]
    rejected: int


def is_mark(text: str) -> bool:
    """No letter or digit: punctuation, a dash, a speck read as a quote."""
    return _LETTER_OR_DIGIT.search(text.replace("_", "")) is None


def is_rule_remnant(text: str) -> bool:
    """What is left of a rule or a scanner's edge, read as text: bars and dashes alone."""
    return bool(text) and all(c in _RULE_MARKS for c in text)


_RULE_MARKS = "|¦!‖—–_-=‚,.'’‘"


def keep_text(words: Sequence[Word]) -> Kept:
    """The words worth writing, in order, and how many were left out as noise."""
    noisy_lines = {line.key for line in engine_lines(words)
                   if mean_confidence(line.words) < NOISE_LINE_CONFIDENCE}
    vouched = _vouched_lines(words)
    kept = [w for w in words if w.key not in noisy_lines
            and not (is_noise(w) and not (w.key in vouched and _misread_word(w)))]
    return Kept(kept, len(words) - len(kept))


def _vouched_lines(words: Sequence[Word]) -> set[LineKey]:
    """Lines most of whose words are words of a language read surely: a garbled word there
    is a word the engine misread ("efä&ce"), not a speck, and the engine alone keeps it."""
    vouched: set[LineKey] = set()
    for line in engine_lines(words):
        sound = sum(w.conf >= SOUND_CONFIDENCE and not is_mark(w.text)
                    and looks_like_a_word(w.text) for w in line.words)
        if sound >= SOUND_NEIGHBOURS and 2 * sound > len(line.words):
            vouched.add(line.key)
    return vouched


def _misread_word(word: Word) -> bool:
    """Letters enough to be a word, read with some confidence: not a mark, not a speck."""
    letters = sum(c.isalpha() for c in word.text)
    return (word.conf >= NOISE_CONFIDENCE and letters >= NOISE_LENGTH
            and 2 * letters > len(word.text))


def is_noise(word: Word) -> bool:
    if word.conf < NOISE_CONFIDENCE and len(word.text.strip(EDGE_PUNCTUATION)) <= NOISE_LENGTH:
        return True
    garbled = is_mark(word.text) or not looks_like_a_word(word.text)
    return garbled and word.conf < GARBLED_CONFIDENCE


def looks_like_a_word(text: str) -> bool:
    """A word of some language, a number, a date or a code; not "HAE", "g6bré", "~=|"."""
    core = text.strip(EDGE_PUNCTUATION)
    if not core:
        return True  # punctuation alone is not a non-word
    if any(c.isdigit() for c in core):
        # Numbers, dates and codes: digits with separators and a letter or two.
        return sum(c.isalpha() for c in core) <= 2
    return all(_plausible(part) for part in _PARTS.split(core) if part)


def _plausible(part: str) -> bool:
    if not part.isalpha():
        return False  # symbols inside a word
    if (len(part) > 3 and not _VOWEL.search(part)) or _TRIPLED.search(part):
        return False
    # Capitalised, lower case or all capitals; capitals inside ("heLLo") are how noise reads.
    return part[1:].islower() or part.isupper() or len(part) == 1


def non_word_share(words: Sequence[Word]) -> float:
    judged = [w for w in words if not is_mark(w.text)]
    if not judged:
        return 0.0
    return sum(not looks_like_a_word(w.text) for w in judged) / len(judged)
