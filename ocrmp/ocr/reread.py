"""Second readings: what a first recognition got wrong or left out, read again.

Pure decisions over the page's words, and one engine call (`recognise.read_box`) per
doubtful line, figure or missed piece, bounded per page. A line read with little
confidence is read again alone, as one line; a figure read with little confidence, from
its own threshold; ink that no word covers, a piece of a line at a time, so that no text
a page shows is lost. A second reading replaces the first only when it is surer by a
margin; the reading of ink no word covered is kept only when sure (`MISSED_CONFIDENCE`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ocrmp.ocr.engines import Engine
from ocrmp.ocr.geometry import Box, Word, engine_lines, group_by_line, mean_confidence
from ocrmp.ocr.noise import looks_like_a_word
from ocrmp.ocr.page import Page
from ocrmp.ocr.recognise import Blocks, read_box

DOUBT_CONFIDENCE = 60.0  # a line or figure read with less is read again alone
SURER_BY = 15.0  # points of confidence the second reading must gain to replace the first
MAX_SECOND_READS = 40  # per page and pass: a bound on the time a bad page costs
MAX_MISSED_READS = 60  # pieces of ink no word covers, read again per page
LINE_PAD = 0.5  # a line or piece is read with this margin (share of its height)
LINE_GLYPHS = 1.4  # glyph sizes: a line of print, its ascenders and descenders
# A word box covers ink this far around it (share of its height): strokes past the box.
COVER_MARGIN = 0.3
TEXT_SIZED = (0.5, 1.6)  # glyph sizes: the ink a missed word is made of
MIN_PIECE_WIDTH = 0.6  # glyph sizes: a narrower piece is a stroke, not a letter
PIECE_GAP = 2.0  # glyph sizes: glyphs closer than this on one line make one piece


@dataclass
class Reread:
    """What a reader's second readings need: the page, the engine, and the block numbers
    of the page's readings."""

    page: Page
    engine: Engine
    blocks: Blocks

    @property
    def dpi(self) -> float:
        assert self.page.resolution is not None
        return self.page.resolution.engine_dpi

    def box(self, box: Box, *, threshold: bool = False) -> list[Word]:
        return read_box(self.page.image, box, self.engine, self.dpi, self.blocks,
                        pad=max(4.0, LINE_PAD * box.height), threshold=threshold)

    def line(self, box: Box) -> list[Word]:
        """The box read as one line, at least a line of print tall: a line the engine cut
        into its upper and lower halves is read whole from either half."""
        short = LINE_GLYPHS * self.page.glyph_px - box.height
        if short > 0:
            box = Box(box.left, box.top - round(short / 2), box.right,
                      box.bottom + round(short / 2))
        return self.box(box)


def weak_lines(words: Sequence[Word], again: Reread) -> list[Word]:
    """Lines read with little confidence, read again as one line from their box.

    Tesseract's layout sometimes cuts one printed line into two thin ones (its upper and
    lower halves, each read as nonsense) or reads a line through a speck; given the box
    alone, as one line at least a line of print tall, it reads it right. Weak lines that
    share a line of the page are read together. The reading trusted more is kept, in the
    first one's place, and the other pieces the engine made of that printed line (inside
    the new reading's box) go with the old reading.
    """
    lines = engine_lines(words)
    weak = [line for line in lines
            if line.conf < DOUBT_CONFIDENCE and sum(len(w.text) for w in line.words) >= 3]
    replaced: dict[int, list[Word]] = {}
    groups = group_by_line([line.box for line in weak])  # pieces of one printed line
    for group in groups[:MAX_SECOND_READS]:
        pieces = [weak[i] for i in group if id(weak[i]) not in replaced]
        if not pieces:
            continue
        old = [w for piece in pieces for w in piece.words]
        read = again.line(Box.around(w.box for w in old))
        if read and mean_confidence(read) >= mean_confidence(old) + SURER_BY:
            box = Box.around(w.box for w in read)
            for other in lines:
                if other in pieces or _inside(other.box, box):
                    replaced[id(other)] = []
            replaced[id(pieces[0])] = [Word(w.text, w.conf, w.box, pieces[0].key) for w in read]
    return [w for line in lines for w in replaced.get(id(line), line.words)]


def _inside(box: Box, outer: Box) -> bool:
    """Whether `box` lies within `outer`'s height, and mostly within its width."""
    return (box.top >= outer.top and box.bottom <= outer.bottom
            and box.x_overlap(outer) > 0.5 * box.width)


def figures(words: Sequence[Word], again: Reread) -> list[Word]:
    """Figures read with little confidence, read again alone from their own thresholded
    box: on light or coloured ink tesseract's threshold of a whole strip can fail where
    the word's own holds ("DH8-1IL" at 0 % for "558-111" at 91 %). Words of a language
    are read in their line's context, which a word read alone loses: measured on real
    ledgers their second readings made the text worse; figures have no such context."""
    out: list[Word] = []
    budget = MAX_SECOND_READS
    for word in words:
        if not _doubtful_figure(word) or budget == 0:
            out.append(word)
            continue
        budget -= 1
        read = again.box(word.box, threshold=True)
        out.extend(read if is_better(word, read) else [word])
    return out


def _doubtful_figure(word: Word) -> bool:
    return (word.conf < DOUBT_CONFIDENCE and len(word.text.strip()) >= 2
            and any(c.isdigit() for c in word.text))


def is_better(first: Word, read: Sequence[Word]) -> bool:
    """Whether a second reading replaces the first: surer by a margin, and words of some
    language or figures (a mark read surely is still a mark)."""
    letters = sum(c.isalnum() for w in read for c in w.text)
    return (letters >= 2 and mean_confidence(read) >= first.conf + SURER_BY
            and all(looks_like_a_word(w.text) for w in read))


# --- ink no word covers -------------------------------------------------------------------

@dataclass(frozen=True)
class Uncovered:
    """The page's text-sized ink that lies outside every word box."""

    boxes: list[Box]  # each text-sized component no word covers
    pieces: list[Box]  # those joined into pieces of a line, each at least a letter wide
    glyphs: int  # text-sized ink components on the page in all


def uncovered(page: Page, words: Sequence[Word], tallest: float = TEXT_SIZED[1]) -> Uncovered:
    """The page's text-sized ink (from its one analysis) outside every word box;
    `tallest`, in glyph sizes, the tallest ink taken for text."""
    glyph = page.glyph_px
    if not glyph:
        return Uncovered([], [], 0)
    covers = [w.box.padded(COVER_MARGIN * w.height) for w in words]
    sized = [b for b in page.glyph_boxes()
             if TEXT_SIZED[0] * glyph <= b.height <= tallest * glyph]
    boxes = [b for b, covered in zip(sized, centres_covered(sized, covers), strict=True)
             if not covered]
    pieces = [p for p in _join(boxes, glyph) if p.width >= MIN_PIECE_WIDTH * glyph]
    return Uncovered(boxes, pieces, len(sized))


def centres_covered(boxes: Sequence[Box], covers: Sequence[Box]) -> list[bool]:
    """For each box, whether its centre lies in one of `covers` (edges included): all
    pairs at once, a block of boxes at a time (a ledger has thousands of glyphs and
    hundreds of words)."""
    spans = np.array([(c.left, c.right, c.top, c.bottom) for c in covers],
                     dtype=float).reshape(-1, 4)
    centres = np.array([(b.centre, b.middle) for b in boxes], dtype=float).reshape(-1, 2)
    covered: list[bool] = []
    for start in range(0, len(centres), _BLOCK):
        x, y = (centres[start:start + _BLOCK, i, None] for i in (0, 1))
        inside: np.ndarray = ((spans[:, 0] <= x) & (x <= spans[:, 1])
                              & (spans[:, 2] <= y) & (y <= spans[:, 3]))
        covered.extend(bool(v) for v in np.any(inside, axis=1))
    return covered


_BLOCK = 1024  # boxes compared with every cover at once


def _join(boxes: Sequence[Box], glyph: float) -> list[Box]:
    """Boxes on one line less than `PIECE_GAP` glyphs apart, as one piece."""
    pieces: list[Box] = []
    for group in group_by_line(boxes):
        run: list[Box] = []
        for box in sorted((boxes[i] for i in group), key=lambda b: b.left):
            if run and box.left - max(b.right for b in run) >= PIECE_GAP * glyph:
                pieces.append(Box.around(run))
                run = []
            run.append(box)
        if run:
            pieces.append(Box.around(run))
    return pieces


def missed(gaps: Uncovered, again: Reread) -> list[list[Word]]:
    """The words read again from the ink no recognised word covers, a piece at a time:
    each piece's reading."""
    return [again.box(piece) for piece in gaps.pieces[:MAX_MISSED_READS]]


def unread_share(gaps: Uncovered, words: Sequence[Word]) -> float:
    """The share of the page's text-sized ink in pieces that none of `words` (the page's
    words after every reading) covers: text the page shows and its result lacks."""
    if not gaps.glyphs:
        return 0.0
    unread = [p for p in gaps.pieces if not any(w.box.intersects(p) for w in words)]
    inside = sum(1 for box in gaps.boxes if any(p.contains(box) for p in unread))
    return inside / gaps.glyphs
