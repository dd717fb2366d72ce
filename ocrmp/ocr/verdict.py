"""The verdict on a page's reading: its confidence and the flags a person should see.

Pure functions of the page's kept words, text and ink analysis. A flagged page keeps its
text and its job still ends done; the flags say why a person should look at it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from ocrmp.ocr.geometry import Word, mean_confidence
from ocrmp.ocr.noise import NON_WORD_SHARE, non_word_share
from ocrmp.ocr.page import Page
from ocrmp.vocabulary import PageFlag

# A page whose kept words mostly do not look like words of any language:
NON_WORD_MIN = 8  # the fewest words to judge a page's share of non-words by
# A page giving more characters than its glyphs could print has read noise as text.
OVERLONG_FACTOR, OVERLONG_SLACK = 2.0, 40
# Handwriting: the page reads as text never does (handwritten pages of the real corpus
# read at 37-49 % mean confidence, typed ones at 69 % or more), and its glyph-sized ink is
# not typed letters: fewer than this share of its marks have a letter's height and width
# (a written word is one mark as wide as several letters, its loops and tails as tall as
# two lines; typed glyphs stand apart at one height).
HANDWRITING_CONFIDENCE = 58.0
TYPED_LETTERS = 0.66
LETTER_HEIGHT = (0.5, 1.6)  # glyph sizes
LETTER_WIDTH = 2.0  # glyph sizes: two typed letters touch; a written word joins more
# Text left out: this share of the page's letter-sized ink lies in lines no word of the
# result covers.
UNREAD_SHARE = 0.25
# A page holding this many glyph-sized marks (three typed lines) holds something to read:
# specks on a blank verso make a few dozen.
UNREAD_GLYPHS = 200


@dataclass(frozen=True)
class Evidence:
    """What the flags are decided from."""

    text: str
    words: Sequence[Word]  # kept
    glyphs: int  # glyph-sized ink components on the page
    letter_share: float  # of those, shaped as typed letters
    unread_share: float = 0.0  # of the glyph-sized ink, in lines no word covers

    @property
    def confidence(self) -> float:
        return mean_confidence(self.words)


def letter_share(glyphs: np.ndarray, size: float) -> float:
    """The share of the page's glyph-sized marks shaped as typed letters (see the
    handwriting thresholds above); 1 without text."""
    if not len(glyphs) or not size:
        return 1.0
    width, height = glyphs[:, cv2.CC_STAT_WIDTH], glyphs[:, cv2.CC_STAT_HEIGHT]
    letters = ((height >= LETTER_HEIGHT[0] * size) & (height <= LETTER_HEIGHT[1] * size)
               & (width <= LETTER_WIDTH * size))
    return float(letters.mean())


def evidence(page: Page) -> Evidence:
    ink = page.ink
    return Evidence(text=page.text, words=page.words,
                    glyphs=len(ink.glyphs) if ink is not None else 0,
                    letter_share=letter_share(ink.glyphs, ink.size) if ink is not None else 1.0,
                    unread_share=page.unread_share)


def page_flags(found: Evidence, low_confidence: float) -> set[PageFlag]:
    """The flags of one page's reading."""
    flags = _reading_flags(found, low_confidence) if found.text.strip() else \
        _blank_flags(found)
    if found.unread_share >= UNREAD_SHARE:
        flags.add(PageFlag.TEXT_UNREAD)
    return flags


def _blank_flags(found: Evidence) -> set[PageFlag]:
    """A blank page (a verso, a separator sheet) has no reading to doubt; a page of marks
    the size of letters of which nothing was read has."""
    return {PageFlag.LOW_CONFIDENCE} if found.glyphs >= UNREAD_GLYPHS else set()


def _reading_flags(found: Evidence, low_confidence: float) -> set[PageFlag]:
    flags = set()
    confidence = found.confidence
    if confidence < low_confidence:
        flags.add(PageFlag.LOW_CONFIDENCE)
    if len(found.words) >= NON_WORD_MIN and non_word_share(found.words) >= NON_WORD_SHARE:
        flags.add(PageFlag.NON_WORDS)
    printed = len("".join(found.text.split()))
    if printed > OVERLONG_FACTOR * found.glyphs + OVERLONG_SLACK:
        flags.add(PageFlag.OVERLONG)
    if handwriting(found):
        flags.add(PageFlag.HANDWRITING)
    return flags


def handwriting(found: Evidence) -> bool:
    return found.confidence < HANDWRITING_CONFIDENCE and found.letter_share < TYPED_LETTERS


def judge(page: Page, low_confidence: float) -> None:
    """The page's flags, added to those its steps raised."""
    with page.timed("verdict"):
        page.flags |= page_flags(evidence(page), low_confidence)
