"""What a job's result says of its flagged pages, read from the result dict alone.

The pool knows nothing of OCR: whether a document needs a person's eyes comes from the
`flagged_pages` and `flags` keys the runner wrote into the result (the reasons are
`PageFlag` values). A result without them, as older versions wrote, is unflagged; the SQL
function `ocrmp_has_flagged_pages` (migration 0005) says the same of a stored result.
Reasons outside the closed list are not counted by reason, so metric labels stay bounded.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from ocrmp.vocabulary import PageFlag

_REASONS = tuple(PageFlag)
_KNOWN = frozenset(flag.value for flag in PageFlag)


@dataclass(frozen=True)
class DocumentFlags:
    """Whether a done document has flagged pages, and the known reasons among them."""

    flagged: bool = False
    reasons: frozenset[PageFlag] = frozenset()

    def to_bits(self) -> int:
        """One word for the slot table: bit 0 flagged, bit 1 + i the i-th PageFlag."""
        bits = int(self.flagged)
        for i, reason in enumerate(_REASONS):
            if reason in self.reasons:
                bits |= 2 << i
        return bits

    @classmethod
    def from_bits(cls, bits: int) -> DocumentFlags:
        reasons = frozenset(reason for i, reason in enumerate(_REASONS) if bits & (2 << i))
        return cls(bool(bits & 1), reasons)


def document_flags(result: object) -> DocumentFlags:
    """The flags of a job's result dict: flagged when `flagged_pages` lists a page."""
    if not isinstance(result, Mapping):
        return DocumentFlags()
    pages = result.get("flagged_pages")
    if not isinstance(pages, list) or not pages:
        return DocumentFlags()
    counts = result.get("flags")
    keys = counts.keys() if isinstance(counts, Mapping) else ()
    return DocumentFlags(True, frozenset(PageFlag(key) for key in keys if key in _KNOWN))
