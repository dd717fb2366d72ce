"""How far a page's reading can be trusted: noise left out, and the flags a person should see.

Pure functions of the engine's words and the page's analysis. The thresholds come from
the real corpus (bench/RESULTS.md): specks, stamps and pen strokes read as text come out
as short words at a very low confidence, or as strings no language writes ("EEHEE",
"g6bré", "~=|") at a low one, or as whole lines of either; leaving those out lowered both
the character and the bag-of-words error there. They are counted (`rejected_words`), not
written. A long word that looks like a word is kept whatever its confidence: tesseract
gives French words with an apostrophe ("l'immeuble") a confidence near 0 when it reads
them right.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from ocrmp.ocr.engines import Word, mean_confidence
from ocrmp.vocabulary import PageFlag

NOISE_CONFIDENCE, NOISE_LENGTH = 20.0, 4  # a word this short read with less is left out
GARBLED_CONFIDENCE = 70.0  # ... and a non-word or a lone mark read with less
NOISE_LINE_CONFIDENCE = 30.0  # a line whose words average less is left out whole
# Flags. A page whose kept words mostly do not look like words of any language:
NON_WORD_SHARE, NON_WORD_MIN = 0.5, 8  # share of words, and the fewest words to judge by
# A page giving more characters than its glyphs could print has read noise as text.
OVERLONG_FACTOR, OVERLONG_SLACK = 2.0, 40
# Handwriting: the page reads badly (under the low-confidence threshold), and its ink is
# joined-up strokes, not glyphs.
HANDWRITING_SHARE = 0.3
# Text left out: this share of the page's letter-sized ink lies in lines no word of the
# result covers. On the real corpus the pages above it read at 44 % CER or worse (a
# catalogue page whose title column the table reader missed, a page of handwriting); the
# generated pages, and every real page read well, stay under 0.2.
UNREAD_SHARE = 0.25
# A page holding this many glyph-sized marks (three typed lines) holds something to read:
# specks on a blank verso make a few dozen.
UNREAD_GLYPHS = 200

_LETTER_OR_DIGIT = re.compile(r"\w", re.UNICODE)
_VOWEL = re.compile(r"[aeiouyàâäéèêëîïôöùûüÿœæ]", re.IGNORECASE)
_TRIPLED = re.compile(r"(\w)\1\1", re.IGNORECASE)  # no word of French or English
_PARTS = re.compile(r"[-'’.]")  # Saint-Jérôme, l'acte, M.
_EDGE_PUNCTUATION = ".,;:!?()[]{}«»\"'’‘“”-–—/"


@dataclass(frozen=True)
class Kept:
    words: list[Word]
    rejected: int


def is_mark(text: str) -> bool:
    """No letter or digit: punctuation, a dash, a speck read as a quote."""
    return _LETTER_OR_DIGIT.search(text.replace("_", "")) is None


def keep_text(words: Sequence[Word]) -> Kept:
    """The words worth writing, in order, and how many were left out as noise."""
    lines: dict[tuple[int, int, int], list[Word]] = {}
    for word in words:
        lines.setdefault(word.line_key, []).append(word)
    noisy_lines = {key for key, line in lines.items()
                   if mean_confidence(line) < NOISE_LINE_CONFIDENCE}
    kept = [w for w in words if w.line_key not in noisy_lines and not is_noise(w)]
    return Kept(kept, len(words) - len(kept))


def is_noise(word: Word) -> bool:
    if word.conf < NOISE_CONFIDENCE and len(word.text.strip(_EDGE_PUNCTUATION)) <= NOISE_LENGTH:
        return True
    garbled = is_mark(word.text) or not looks_like_a_word(word.text)
    return garbled and word.conf < GARBLED_CONFIDENCE


def looks_like_a_word(text: str) -> bool:
    """A word of some language, a number, a date or a code; not "HAE", "g6bré", "~=|"."""
    core = text.strip(_EDGE_PUNCTUATION)
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


@dataclass(frozen=True)
class Evidence:
    """What the flags are decided from."""

    text: str
    confidence: float  # mean word confidence of the kept words
    words: Sequence[Word]  # kept
    glyphs: int  # glyph-sized ink components on the page
    cursive_share: float  # share of text ink in joined-up strokes (analysis)
    orientation_uncertain: bool
    unread_share: float = 0.0  # of the glyph-sized ink, in lines no word covers


def page_flags(evidence: Evidence, low_confidence: float) -> list[PageFlag]:
    """The flags of one page, in the vocabulary's order."""
    flags = _reading_flags(evidence, low_confidence) if evidence.text.strip() else \
        _blank_flags(evidence)
    if evidence.orientation_uncertain:
        flags.append(PageFlag.ORIENTATION_UNCERTAIN)
    if evidence.unread_share >= UNREAD_SHARE:
        flags.append(PageFlag.TEXT_UNREAD)
    return flags


def _blank_flags(evidence: Evidence) -> list[PageFlag]:
    """A blank page (a verso, a separator sheet) has no reading to doubt; a page of marks
    the size of letters of which nothing was read has."""
    return [PageFlag.LOW_CONFIDENCE] if evidence.glyphs >= UNREAD_GLYPHS else []


def _reading_flags(evidence: Evidence, low_confidence: float) -> list[PageFlag]:
    flags = []
    if evidence.confidence < low_confidence:
        flags.append(PageFlag.LOW_CONFIDENCE)
    if len(evidence.words) >= NON_WORD_MIN and non_word_share(evidence.words) >= NON_WORD_SHARE:
        flags.append(PageFlag.NON_WORDS)
    printed = len("".join(evidence.text.split()))
    if printed > OVERLONG_FACTOR * evidence.glyphs + OVERLONG_SLACK:
        flags.append(PageFlag.OVERLONG)
    if evidence.cursive_share >= HANDWRITING_SHARE and evidence.confidence < low_confidence:
        flags.append(PageFlag.HANDWRITING)
    return flags
