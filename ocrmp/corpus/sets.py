"""Many pages at once: random pages drawn from a seed, documents, benchmark corpora.

A random page is an ordinary page whose keyword arguments were drawn from its seed; the
page records them in `options`, so any page of a benchmark can be made again by hand.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ocrmp.corpus.acte import LAYOUTS, acte_page
from ocrmp.corpus.fonts import FACES
from ocrmp.corpus.formats import FORMATS, get_format
from ocrmp.corpus.ledger import index_page, ledger_page
from ocrmp.corpus.page import GeneratedPage
from ocrmp.corpus.scan import random_scan

Rng = np.random.Generator
ACTE_DPIS = [100, 150, 200, 240, 300, 300, 400]
LEDGER_DPIS = [200, 240, 300, 300, 400]
# Typed and printed formats more often than the handwritten register.
_FORMAT_WEIGHTS = {"simple": 3, "formulaire": 3, "english": 2, "inscription": 3,
                   "radiation": 2, "manuscrit": 1, "double-entete": 2, "formulaire-ancien": 2}
PAGE_MAKERS: dict[str, Callable[..., GeneratedPage]] = {"acte": acte_page, "index": index_page}


def _pick(rng: Rng, items: list[Any]) -> Any:
    return items[int(rng.integers(len(items)))]


def _ledger_options(rng: Rng, fmt: str | None, hand: Rng) -> dict[str, Any]:
    names = list(_FORMAT_WEIGHTS)
    weights = np.array([_FORMAT_WEIGHTS[n] for n in names], float)
    chosen = fmt or names[int(rng.choice(len(names), p=weights / weights.sum()))]
    # The old printed form was filled in by hand now and then (`hand`: a stream of its own).
    written = chosen == "formulaire-ancien" and bool(hand.random() < 0.25)
    return {
        "written": written,
        "format": chosen,
        "face": _pick(rng, list(get_format(chosen).faces)),
        "rules": _pick(rng, ["full", "full", "full", "horizontal", "vertical", "none"]),
        "rule_weight": _pick(rng, ["hairline", "normal", "normal", "bold"]),
        "broken_rules": bool(rng.random() < 0.2),
        "landscape": True if rng.random() < 0.25 else None,
        "continued": bool(rng.random() < 0.5),
    }


def random_options(seed: int, kind: str, format: str | None = None) -> dict[str, Any]:  # noqa: A002
    """Keyword arguments for a page of `kind` drawn from `seed`, mixing every condition."""
    rng = np.random.default_rng([seed, 6])
    if kind == "acte":
        shape = {"face": _pick(rng, list(FACES)), "page_size": _pick(rng, ["letter"] * 4 +
                                                                     ["legal"])}
        # The layout from a stream of its own: the other draws stay what they were.
        layout = _pick(np.random.default_rng([seed, 13]), list(LAYOUTS))
        return {**shape, "layout": layout, **random_scan(rng, ACTE_DPIS)}
    if kind == "index":
        hand = np.random.default_rng([seed, 15])
        return {**_ledger_options(rng, format, hand), **random_scan(rng, LEDGER_DPIS)}
    raise ValueError(f"unknown document kind {kind!r}; expected 'acte' or 'index'")


def random_page(seed: int, kind: str, **fixed: Any) -> GeneratedPage:
    """A page with every option drawn from `seed`, except those given in `fixed`."""
    options = {**random_options(seed, kind, fixed.get("format")), **fixed}
    return acte_page(seed, **options) if kind == "acte" else ledger_page(seed, **options)


# Ledger layouts of the benchmarks: every typed format, and a ledger tilted 1-3 degrees.
LEDGER_LAYOUTS = (*(name for name, fmt in FORMATS.items() if not fmt.handwritten), "tilted")


def layout_page(seed: int, layout: str) -> GeneratedPage:
    """A page of `layout` with every other option drawn from `seed`.

    `layout` is a deed-kind layout (`acte.LAYOUTS`), a typed ledger format (entries
    typed, never written in), or "tilted": a typed ledger of any format, skewed 1-3 degrees
    either way. Font, resolution, turn, fax, colour, marks and damage are the seed's.
    """
    if layout in LAYOUTS:
        return random_page(seed, "acte", layout=layout)
    if layout not in LEDGER_LAYOUTS:
        raise ValueError(f"unknown layout {layout!r}; expected one of "
                         f"{', '.join((*LAYOUTS, *LEDGER_LAYOUTS))}")
    if layout != "tilted":
        return random_page(seed, "index", format=layout, written=False)
    rng = np.random.default_rng([seed, 16])
    typed = [name for name in LEDGER_LAYOUTS if name != "tilted"]
    skew = round(float(rng.uniform(1.0, 3.0)) * (1 if rng.random() < 0.5 else -1), 2)
    return random_page(seed, "index", format=_pick(rng, typed), written=False, skew_deg=skew)


def make_document(
    kind: str, seed: int, pages: int, degrade: bool = False, dpi: int = 300, **options: Any
) -> tuple[list[GeneratedPage], str]:
    """`pages` pages of one kind (page i from seed*1000+i) and the document's full truth."""
    if kind not in PAGE_MAKERS:
        raise ValueError(f"unknown document kind {kind!r}; expected 'acte' or 'index'")
    made = [PAGE_MAKERS[kind](seed * 1000 + i, degrade=degrade, dpi=dpi, **options)
            for i in range(pages)]
    return made, "\n\n".join(page.text for page in made)


# --------------------------------------------------------------------------- benchmarks


def _condition_options(name: str, rng: Rng) -> dict[str, Any]:
    """The keyword arguments of one named condition, its free values drawn from `rng`."""
    if name == "clean":
        return {}
    if name == "degraded":
        return {"degrade": True}
    if name == "rotated":
        return {"orientation_deg": _pick(rng, [90, 180, 270])}
    if name == "low-dpi":
        return {"dpi": _pick(rng, [100, 150, 200])}
    if name == "fax":
        return {"fax": True, "dpi": _pick(rng, [100, 150, 200])}
    if name == "colour":
        return {"colour": True, "paper": _pick(rng, ["yellowed", "grey", "white"])}
    if name == "light-ink":
        return {"ink": _pick(rng, ["faded", "violet", "blue"]), "colour": bool(rng.random() < 0.5)}
    if name == "marks":
        return {"stamps": int(rng.integers(1, 3)), "handwriting": int(rng.integers(1, 4))}
    raise ValueError(f"unknown condition {name!r}; expected one of {', '.join(CONDITIONS)}")


CONDITIONS = ("clean", "degraded", "rotated", "low-dpi", "fax", "colour", "light-ink", "marks",
              "random")


def benchmark_corpus(
    count: int, kind: str, *, seed: int = 0, format: str | None = None,  # noqa: A002
    condition: str = "random",
) -> list[GeneratedPage]:
    """`count` pages of `kind` (and ledger `format`, any when None) under `condition`.

    "random" draws every option from each page's seed; a named condition (see
    CONDITIONS) sets only what it is about, on otherwise clean pages in the format's usual
    face, the typed ledger formats in turn when `format` is None. Page i has seed
    `seed * 100_000 + i`.
    """
    if format is not None and (kind != "index" or format not in FORMATS):
        raise ValueError(f"format {format!r} is for index pages, one of {', '.join(FORMATS)}")
    pages = []
    for i in range(count):
        page_seed = seed * 100_000 + i
        if condition == "random":
            pages.append(random_page(page_seed, kind, **({"format": format} if format else {})))
            continue
        options = _condition_options(condition, np.random.default_rng([page_seed, 7]))
        if kind == "acte":
            pages.append(acte_page(page_seed, **options))
        else:
            typed = [name for name, fmt in FORMATS.items() if not fmt.handwritten]
            pages.append(ledger_page(page_seed, format=format or typed[i % len(typed)],
                                     **options))
    return pages
