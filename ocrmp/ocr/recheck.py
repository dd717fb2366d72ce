"""Second readings: what a first recognition got wrong or left out, read again.

Pure decisions over the engine's words, and one engine call per doubtful word or missed
piece, bounded per page. Deeds and ledgers share them: a word read with little confidence
is read again alone from its own thresholded box; ink no recognised word covers is read
again a piece of a line at a time, so that no text a page shows is lost.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from ocrmp.ocr import analysis
from ocrmp.ocr.engines import Engine, Word, mean_confidence

LINE_PSM = 7  # one line of text
# A word box covers ink this far around it (share of its height): strokes past the box.
COVER_MARGIN = 0.3
MISSED_PAD = 0.5  # a missed piece is read with this margin (share of its height)
MAX_REREADS = 60  # the most pieces of one page read again: a bound on its time


def second_opinion(image: np.ndarray, words: Sequence[Word], engine: Engine,
                   dpi: float) -> list[Word]:
    """Words read with little confidence, read again alone from their own thresholded
    box: on light or coloured ink tesseract's threshold of a whole strip can fail where
    the word's own holds ("DH8-1IL" at 0 % for "558-111" at 91 %). The reading trusted
    more is kept."""
    out: list[Word] = []
    budget = MAX_SECOND_READS
    for word in words:
        if word.conf >= DOUBT_CONFIDENCE or len(word.text.strip()) < 2 or budget == 0:
            out.append(word)
            continue
        budget -= 1
        again = _read_alone(image, word, engine, dpi)
        better = again and mean_confidence(again) >= word.conf + SURER_BY
        out.extend(again if better else [word])
    return out


DOUBT_CONFIDENCE = 60.0  # a word read with less is read again alone
SURER_BY = 15.0  # points of confidence the second reading must gain to replace the first
MAX_SECOND_READS = 40  # per page and pass: a bound on the time a bad page costs


def _read_alone(image: np.ndarray, word: Word, engine: Engine, dpi: float) -> list[Word]:
    pad = max(2, round(MISSED_PAD * word.height))
    x0, y0 = max(0, word.left - pad), max(0, word.top - pad)
    crop = image[y0:word.bottom + pad, x0:word.right + pad]
    if crop.size == 0:
        return []
    _, binary = cv2.threshold(np.ascontiguousarray(crop), 0, 255,
                              cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    binary = cv2.copyMakeBorder(binary, pad, pad, pad, pad, cv2.BORDER_CONSTANT, value=255)
    return [Word(w.text, w.conf, w.left + x0 - pad, w.top + y0 - pad, w.width, w.height,
                 word.line_key)
            for w in engine.recognize(binary, psm=LINE_PSM, dpi=dpi).words]


def without_remnants(words: Sequence[Word]) -> list[Word]:
    return [w for w in words if not is_rule_remnant(w.text)]


def is_rule_remnant(text: str) -> bool:
    """What is left of a rule, read as text: bars and dashes alone."""
    return bool(text) and all(c in _RULE_MARKS for c in text)


_RULE_MARKS = "|¦!‖—–_-=‚,.'’‘"


def reread_missed(image: np.ndarray, words: Sequence[Word], engine: Engine,
                  dpi: float) -> list[Word]:
    """Words read again from the ink no recognised word covers, one piece at a time."""
    found: list[Word] = []
    for left, top, right, bottom in missed_pieces(image, words)[:MAX_REREADS]:
        pad = round(MISSED_PAD * (bottom - top))
        x0, y0 = max(0, left - pad), max(0, top - pad)
        crop = np.ascontiguousarray(image[y0:bottom + pad, x0:right + pad])
        crop = cv2.copyMakeBorder(crop, pad, pad, pad, pad, cv2.BORDER_CONSTANT, value=255)
        for word in engine.recognize(crop, psm=LINE_PSM, dpi=dpi).words:
            found.append(Word(word.text, word.conf, word.left + x0 - pad, word.top + y0 - pad,
                              word.width, word.height, (0, 0, len(found) + 1)))
    return found


def missed_pieces(image: np.ndarray, words: Sequence[Word]) -> list[tuple[int, int, int, int]]:
    """Boxes (left, top, right, bottom, page pixels) of the page's glyph-sized ink that
    lies outside every word box, joined into pieces of a line. Ink as the analysis sees
    it: faded typing is ink too, though lighter than any fixed threshold."""
    ink = analysis.ink_of(image)
    r = ink.reduction
    covered = np.zeros_like(ink.mask)
    for word in words:
        margin = COVER_MARGIN * word.height
        covered[max(0, round((word.top - margin) / r)):round((word.bottom + margin) / r) + 1,
                max(0, round((word.left - margin) / r)):round((word.right + margin) / r) + 1] = 1
    glyphs = analysis.glyph_components(analysis.component_stats(ink.mask), ink.mask.shape)
    size = analysis.glyph_size(glyphs)
    if not size:
        return []
    boxes = []
    for x, y, w, h, _ in glyphs:
        if not 0.5 * size <= h <= 1.6 * size:
            continue  # a speck, a dot, a rule's remnant: not what a missed word is made of
        if not covered[y + h // 2, x + w // 2]:
            boxes.append((round(x * r), round(y * r), round((x + w) * r), round((y + h) * r)))
    return _join(boxes, size * r)


def _join(boxes: list[tuple[int, int, int, int]], size: float) -> list[tuple[int, int, int, int]]:
    """Boxes of one line less than two glyphs apart, as one piece."""
    pieces: list[list[int]] = []
    for left, top, right, bottom in sorted(boxes):
        for piece in pieces:
            same_line = min(bottom, piece[3]) - max(top, piece[1]) > 0
            if same_line and left - piece[2] < 2 * size:
                piece[:] = [piece[0], min(top, piece[1]), max(right, piece[2]),
                            max(bottom, piece[3])]
                break
        else:
            pieces.append([left, top, right, bottom])
    return [(p[0], p[1], p[2], p[3]) for p in pieces]
