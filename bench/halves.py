"""The fixed split of every page set into a tuning half and a checking half.

A rule of the OCR is decided on the tuning half; both halves are reported, and a rule
stays only if it helps on the checking half too. The split never changes:

- Real scans: within each collection (its folder under the corpus root), pages sorted by
  the SHA-256 of their file name; the first half (rounded up) tunes, the rest checks. The
  rule needs no list, so a collection added later is split the same way.
- Generated pages: a page's seed decides. Seeds 0-49,999 tune; seeds 50,000-99,999
  check; benchmarks also report seeds from 100,000 on, drawn afresh for each report and
  never looked at while tuning (`FRESH_SEEDS`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from typing import Protocol, TypeVar

HALVES = ("tuning", "checking")
TUNING_SEEDS = range(0, 50_000)
CHECKING_SEEDS = range(50_000, 100_000)
FRESH_SEEDS = range(100_000, 1_000_000)


class Named(Protocol):
    @property
    def collection(self) -> str: ...

    @property
    def name(self) -> str: ...


P = TypeVar("P", bound=Named)


def _rank(name: str) -> str:
    return hashlib.sha256(name.encode("utf-8")).hexdigest()


def real_half(page: Named, pages: Iterable[Named]) -> str:
    """'tuning' or 'checking' for a real page, among the pages of its collection."""
    same = sorted((p.name for p in pages if p.collection == page.collection), key=_rank)
    tuning = set(same[:(len(same) + 1) // 2])
    return HALVES[0] if page.name in tuning else HALVES[1]


def split_real(pages: Sequence[P]) -> dict[str, list[P]]:
    """The pages of both halves, in their given order."""
    halves: dict[str, list[P]] = {half: [] for half in HALVES}
    for page in pages:
        halves[real_half(page, pages)].append(page)
    return halves


def seed_half(seed: int) -> str:
    """'tuning', 'checking' or 'fresh' for a generated page's seed."""
    if seed in TUNING_SEEDS:
        return HALVES[0]
    if seed in CHECKING_SEEDS:
        return HALVES[1]
    return "fresh"
