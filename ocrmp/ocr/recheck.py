"""Second readings: what a first recognition got wrong or left out, read again.

Pure decisions over the engine's words, and one engine call per doubtful word or missed
piece, bounded per page. Deeds and ledgers share them: a word read with little confidence
is read again alone from its own thresholded box; ink no recognised word covers is read
again a piece of a line at a time, so that no text a page shows is lost.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from ocrmp.ocr import analysis
from ocrmp.ocr.engines import Engine, Word, mean_confidence
from ocrmp.ocr.trust import looks_like_a_word

LINE_PSM = 7  # one line of text
TALLEST_GLYPH = 1.6  # glyph sizes: a capital of the body text, with its accent
# A word box covers ink this far around it (share of its height): strokes past the box.
COVER_MARGIN = 0.3
MISSED_PAD = 0.5  # a missed piece is read with this margin (share of its height)
MAX_REREADS = 60  # the most pieces of one page read again: a bound on its time


def second_opinion(image: np.ndarray, words: Sequence[Word], engine: Engine,
                   dpi: float) -> list[Word]:
    """Figures read with little confidence, read again alone from their own thresholded
    box: on light or coloured ink tesseract's threshold of a whole strip can fail where
    the word's own holds ("DH8-1IL" at 0 % for "558-111" at 91 %). The reading trusted
    more is kept."""
    out: list[Word] = []
    budget = MAX_SECOND_READS
    for word in words:
        if not _doubtful_figure(word) or budget == 0:
            out.append(word)
            continue
        budget -= 1
        # Its own threshold: the strip's failed it ("DH8-1IL" for "558-111").
        again = _read_box(image, _box([word]), engine, dpi, word.line_key, threshold=True)
        out.extend(again if is_better(word, again) else [word])
    return out


def _doubtful_figure(word: Word) -> bool:
    """A number or a date read with little confidence. Words of a language are read in
    their line's context, which a word read alone loses: measured on real ledgers, their
    second readings made the text worse; figures have no such context."""
    return (word.conf < DOUBT_CONFIDENCE and len(word.text.strip()) >= 2
            and any(c.isdigit() for c in word.text))


def is_better(first: Word, again: Sequence[Word]) -> bool:
    """Whether a second reading replaces the first: surer by a margin, and words of some
    language or figures (a mark read surely is still a mark, and the first reading of
    noise is left for `keep_text` to drop)."""
    letters = sum(c.isalnum() for w in again for c in w.text)
    return (letters >= 2 and mean_confidence(again) >= first.conf + SURER_BY
            and all(looks_like_a_word(w.text) for w in again))


DOUBT_CONFIDENCE = 60.0  # a word read with less is read again alone
SURER_BY = 15.0  # points of confidence the second reading must gain to replace the first
MAX_SECOND_READS = 40  # per page and pass: a bound on the time a bad page costs


def without_remnants(words: Sequence[Word]) -> list[Word]:
    return [w for w in words if not is_rule_remnant(w.text)]


def is_rule_remnant(text: str) -> bool:
    """What is left of a rule, read as text: bars and dashes alone."""
    return bool(text) and all(c in _RULE_MARKS for c in text)


_RULE_MARKS = "|¦!‖—–_-=‚,.'’‘"


def reread_missed(image: np.ndarray, gaps: Uncovered, engine: Engine,
                  dpi: float) -> list[Word]:
    """Words read again from the ink no recognised word covers (`uncovered`), one piece
    at a time (a piece's words make one line of their own)."""
    found: list[Word] = []
    for n, piece in enumerate(gaps.pieces[:MAX_REREADS], 1):
        found += _read_box(image, piece, engine, dpi, (0, 0, n))
    return found


Box = tuple[int, int, int, int]  # (left, top, right, bottom), page pixels


@dataclass(frozen=True)
class Uncovered:
    """The page's glyph-sized ink that lies outside every word box."""

    boxes: list[Box]  # each glyph-sized component
    pieces: list[Box]  # the boxes joined into pieces of a line, each at least a letter wide
    glyphs: int  # glyph-sized ink components on the page in all


def uncovered(image: np.ndarray, words: Sequence[Word],
              tallest: float = TALLEST_GLYPH) -> Uncovered:
    """The page's glyph-sized ink outside every word box; `tallest`, in glyph sizes, the
    tallest ink taken for text. Ink as the analysis sees it: faded typing is ink too,
    though lighter than any fixed threshold."""
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
        return Uncovered([], [], 0)
    boxes, text_sized = [], 0
    for x, y, w, h, _ in glyphs:
        if not 0.5 * size <= h <= tallest * size:
            continue  # a speck, a dot, a rule's remnant: not what a missed word is made of
        text_sized += 1
        if not covered[y + h // 2, x + w // 2]:
            boxes.append((round(x * r), round(y * r), round((x + w) * r), round((y + h) * r)))
    # A piece narrower than a letter is a stroke: the scanner's edge, a rule's end.
    pieces = [p for p in _join(boxes, size * r) if p[2] - p[0] >= MIN_PIECE_WIDTH * size * r]
    return Uncovered(boxes, pieces, text_sized)


def unread_share(found: Uncovered, words: Sequence[Word]) -> float:
    """The share of the page's glyph-sized ink in pieces of a line that none of `words`
    (the page's words after every reading) covers: text the page shows and its result
    lacks. 0 on a page without text."""
    if not found.glyphs:
        return 0.0
    unread = [p for p in found.pieces if not any(_covers(w, p) for w in words)]
    inside = sum(1 for box in found.boxes if any(_within(box, p) for p in unread))
    return inside / found.glyphs


def _covers(word: Word, piece: Box) -> bool:
    left, top, right, bottom = piece
    return min(word.right, right) > max(word.left, left) and \
        min(word.bottom, bottom) > max(word.top, top)


def _within(box: Box, piece: Box) -> bool:
    return box[0] >= piece[0] and box[1] >= piece[1] and box[2] <= piece[2] and \
        box[3] <= piece[3]


MIN_PIECE_WIDTH = 0.6  # glyph sizes
TOUCHING = 0.2  # of a line's height: closer lines are pieces of one (text lines are further)


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


def reread_weak_lines(image: np.ndarray, words: Sequence[Word], engine: Engine,
                      dpi: float) -> list[Word]:
    """Lines read with little confidence, read again as one line from their box.

    Tesseract's layout sometimes cuts one printed line into two thin ones (its upper and
    lower halves, each read as nonsense) or reads a line through a speck; given the box
    alone, as one line, it reads it right. Lines that overlap are one printed line and
    read together. The reading trusted more is kept, in the first one's place.
    """
    lines: dict[tuple[int, int, int], list[Word]] = {}
    for word in words:
        lines.setdefault(word.line_key, []).append(word)
    weak = [key for key, line in lines.items()
            if mean_confidence(line) < DOUBT_CONFIDENCE and sum(len(w.text) for w in line) >= 3]
    replaced: dict[tuple[int, int, int], list[Word]] = {}
    for keys in _overlapping([(key, lines[key]) for key in weak])[:MAX_SECOND_READS]:
        old = [w for key in keys for w in lines[key]]
        again = _read_box(image, _box(old), engine, dpi, keys[0])
        if again and mean_confidence(again) >= mean_confidence(old) + SURER_BY:
            # The other pieces tesseract made of that printed line go with it.
            replaced.update({key: [] for key, line in lines.items()
                             if key in keys or _inside(_box(line), _box(old))})
            replaced[keys[0]] = again
    out: list[Word] = []
    for key, line in lines.items():
        out.extend(replaced.get(key, line))
    return out


def _box(words: Sequence[Word]) -> tuple[int, int, int, int]:
    return (min(w.left for w in words), min(w.top for w in words),
            max(w.right for w in words), max(w.bottom for w in words))


def _inside(box: tuple[int, int, int, int], outer: tuple[int, int, int, int]) -> bool:
    """Whether `box` lies within `outer`'s height, and mostly within its width."""
    left, top, right, bottom = box
    return (top >= outer[1] and bottom <= outer[3]
            and min(right, outer[2]) - max(left, outer[0]) > 0.5 * (right - left))


def _overlapping(lines: list[tuple[tuple[int, int, int], list[Word]]]
                 ) -> list[list[tuple[int, int, int]]]:
    """Keys of the lines that share height (or touch) and width, grouped: one printed
    line each."""
    groups: list[tuple[list[tuple[int, int, int]], list[int]]] = []
    for key, line in lines:
        left, top, right, bottom = _box(line)
        for keys, box in groups:
            # Overlapping, or touching: the halves of a line cut in two meet at its middle.
            reach = -TOUCHING * min(bottom - top, box[3] - box[1])
            if (min(bottom, box[3]) - max(top, box[1]) > reach
                    and min(right, box[2]) > max(left, box[0])):
                keys.append(key)
                box[:] = [min(left, box[0]), min(top, box[1]), max(right, box[2]),
                          max(bottom, box[3])]
                break
        else:
            groups.append(([key], [left, top, right, bottom]))
    return [keys for keys, _ in groups]


def _read_box(image: np.ndarray, box: tuple[int, int, int, int], engine: Engine, dpi: float,
              key: tuple[int, int, int], *, threshold: bool = False) -> list[Word]:
    """The words of one box read as one line, with a margin of paper around it, in page
    coordinates under `key`; `threshold`: Otsu's threshold of the box first."""
    left, top, right, bottom = box
    pad = max(4, round(MISSED_PAD * (bottom - top)))
    x0, y0 = max(0, left - pad), max(0, top - pad)
    crop = np.ascontiguousarray(image[y0:bottom + pad, x0:right + pad])
    if crop.size == 0:
        return []
    if threshold:
        crop = cv2.threshold(crop, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)[1]
    crop = cv2.copyMakeBorder(crop, pad, pad, pad, pad, cv2.BORDER_CONSTANT, value=255)
    return [Word(w.text, w.conf, w.left + x0 - pad, w.top + y0 - pad, w.width, w.height, key)
            for w in engine.recognize(crop, psm=LINE_PSM, dpi=dpi).words]
