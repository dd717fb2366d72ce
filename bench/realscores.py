"""The real-scan part of bench/quality.py: every page read by each system, then the tables.

Per collection: median and pooled CER, median bag-of-words error, seconds per page, and
ocrmp's medians over the CLI's (the issue's 0.85 target) and over OCRmyPDF's. Per page: each
system's CER and bag-of-words error, ocrmp's flags. Then the pages where ocrmp loses to a
peer by more than half a point, worst first. The raw readings go to bench/out/ as JSON.
"""

from __future__ import annotations

import argparse
import functools
import os
import re
import statistics
import sys
from dataclasses import dataclass, field

from common import write_json
from halves import real_half, split_real
from realcorpus import (
    PeerCache,
    Reading,
    RealPage,
    bag_of_words_error,
    char_error_rate,
    discover,
    iter_collections,
    matches,
    ocrmypdf_binary,
    read_with_cli,
    read_with_ocrmp,
    read_with_ocrmypdf,
    tesseract_version,
)

from ocrmp.config import ocr_from_env
from ocrmp.ocr.pipeline import Pipeline

LOSS_MARGIN = 0.005  # half a CER point: smaller differences are noise between systems


@dataclass
class PageScore:
    page: RealPage
    kind: str
    cer: dict[str, float] = field(default_factory=dict)
    bow: dict[str, float] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    notes: dict[str, str] = field(default_factory=dict)
    flags: list[str] = field(default_factory=list)
    texts: dict[str, str] = field(default_factory=dict)

    def add(self, system: str, reading: Reading) -> None:
        self.cer[system] = char_error_rate(self.page.reference, reading.text)
        self.bow[system] = bag_of_words_error(self.page.reference, reading.text)
        self.seconds[system] = reading.seconds
        self.texts[system] = reading.text
        if reading.note:
            self.notes[system] = reading.note


def _lang(page: RealPage) -> str:
    # tesseract's own test pages are English; the eurotext page mixes languages.
    return "eng+fra" if page.collection.startswith("rotated") else "fra"


def _pipelines(langs: set[str]) -> dict[str, Pipeline]:
    return {lang: Pipeline(ocr_from_env(os.environ, lang=lang)) for lang in langs}


def measure_real(args: argparse.Namespace) -> list[PageScore]:
    found = discover(args.real)
    pages = [p for p in found if matches(args.only, p)
             and (args.half is None or real_half(p, found) == args.half)]
    if not pages:
        raise SystemExit(f"no page with ground truth under {args.real}")
    pipelines = _pipelines({_lang(p) for p in pages})
    cache = PeerCache(args.peer_cache)
    ocrmypdf = None if args.no_ocrmypdf else ocrmypdf_binary()
    cli_version = tesseract_version()
    scores = []
    for page in pages:
        lang = _lang(page)
        kind = "index" if re.search(args.index, page.collection) else "acte"
        score = PageScore(page, kind)
        reading, result = read_with_ocrmp(pipelines[lang], page.image, kind)
        score.add("ocrmp", reading)
        score.flags = sorted({f for p in result["page_results"] for f in p["flags"]})
        if not args.no_peers:
            _read_peers(score, lang, cache, ocrmypdf, cli_version)
        scores.append(score)
        print(f"# {page.collection}/{page.name}: " + ", ".join(
            f"{s} {score.cer[s]:.1%}" for s in score.cer), file=sys.stderr)
    write_json("quality-real.json", {"pages": [_page_record(s) for s in scores]})
    return scores


def _read_peers(score: PageScore, lang: str, cache: PeerCache, ocrmypdf: str | None,
                version: str) -> None:
    image = score.page.image
    score.add("cli", cache.get(("cli", version, lang), image,
                               functools.partial(read_with_cli, image, lang)))
    if ocrmypdf:
        score.add("ocrmypdf", cache.get(("ocrmypdf", version, lang), image,
                                        functools.partial(read_with_ocrmypdf, ocrmypdf, image,
                                                          lang)))


def _page_record(score: PageScore) -> dict[str, object]:
    return {"collection": score.page.collection, "name": score.page.name,
            "kind": score.kind, "cer": score.cer, "bow": score.bow,
            "seconds": score.seconds, "flags": score.flags, "notes": score.notes,
            "texts": score.texts, "reference": score.page.reference}


# --- tables -------------------------------------------------------------------------------

def _median(scores: list[PageScore], metric: str, system: str) -> float:
    values = [getattr(s, metric)[system] for s in scores if system in getattr(s, metric)]
    return statistics.median(values) if values else float("nan")


def _pooled_cer(scores: list[PageScore], system: str) -> float:
    chars = [len(" ".join(s.page.reference.split())) for s in scores if system in s.cer]
    edits = [s.cer[system] * n for s, n in zip(scores, chars, strict=False)]
    return sum(edits) / max(1, sum(chars))


def _ratio(ours: float, theirs: float) -> str:
    return f"{ours / theirs:.2f}" if theirs > 0 else "-"


def _groups(scores: list[PageScore]) -> list[tuple[str, list[RealPage]]]:
    """Each collection, each of its halves (bench/halves.py), and all pages; then each
    half over every collection."""
    everything = [s.page for s in scores]
    halves = split_real(everything)
    groups = []
    for collection, pages in iter_collections(everything):
        groups.append((collection, pages))
        for half, members in halves.items():
            groups.append((f"{collection} ({half})", [p for p in pages if p in members]))
    groups += [(f"all ({half})", members) for half, members in halves.items()]
    groups.append(("all", everything))
    return groups


def report_collections(scores: list[PageScore]) -> None:
    print("\n| collection | pages | system | median CER | pooled CER | median BoW | s/page "
          "| CER / CLI | BoW / CLI | pooled / CLI |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for collection, pages in _groups(scores):
        group = [s for s in scores if s.page in pages]
        for system in ("ocrmp", "cli", "ocrmypdf"):
            if not any(system in s.cer for s in group):
                continue
            cer, bow = _median(group, "cer", system), _median(group, "bow", system)
            seconds = _median(group, "seconds", system)
            cli_cer, cli_bow = _median(group, "cer", "cli"), _median(group, "bow", "cli")
            pooled, cli_pooled = _pooled_cer(group, system), _pooled_cer(group, "cli")
            print(f"| {collection} | {len(group)} | {system} | {cer:.1%} | "
                  f"{pooled:.1%} | {bow:.1%} | {seconds:.2f} | "
                  f"{_ratio(cer, cli_cer)} | {_ratio(bow, cli_bow)} | "
                  f"{_ratio(pooled, cli_pooled)} |")


def report_pages(scores: list[PageScore]) -> None:
    print("\n| page | half | kind | CER ocrmp | CLI | OCRmyPDF | BoW ocrmp | CLI | OCRmyPDF "
          "| flags |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    everything = [s.page for s in scores]
    for s in scores:
        cells = [f"{s.cer[k]:.1%}" if k in s.cer else "-" for k in ("ocrmp", "cli", "ocrmypdf")]
        cells += [f"{s.bow[k]:.1%}" if k in s.bow else "-" for k in ("ocrmp", "cli", "ocrmypdf")]
        half = real_half(s.page, everything)
        print(f"| {s.page.collection}/{s.page.name[-40:]} | {half} | {s.kind} | "
              + " | ".join(cells)
              + f" | {' '.join(s.flags) or '-'} |")


def losses(scores: list[PageScore]) -> list[tuple[float, str, PageScore]]:
    """(margin, what, page) for every page where a peer beats ocrmp, worst first."""
    found = []
    for s in scores:
        for peer in ("cli", "ocrmypdf"):
            for metric in ("cer", "bow"):
                ours, theirs = getattr(s, metric).get("ocrmp"), getattr(s, metric).get(peer)
                if ours is not None and theirs is not None and ours - theirs > LOSS_MARGIN:
                    found.append((ours - theirs, f"{metric} vs {peer}", s))
    return sorted(found, key=lambda item: -item[0])


def report_losses(scores: list[PageScore]) -> None:
    lost = losses(scores)
    print(f"\n# pages where ocrmp loses to a peer by more than {LOSS_MARGIN:.1%}: "
          f"{len({id(s) for _, _, s in lost})} of {len(scores)}")
    print("| page | what | ocrmp | peer | margin | ocrmp's flags |")
    print("|---|---|---|---|---|---|")
    for margin, what, s in lost:
        metric, peer = what.split(" vs ")
        print(f"| {s.page.collection}/{s.page.name[-40:]} | {what} | "
              f"{getattr(s, metric)['ocrmp']:.1%} | {getattr(s, metric)[peer]:.1%} | "
              f"{margin:+.1%} | {' '.join(s.flags) or '-'} |")


def report_guards(scores: list[PageScore]) -> None:
    """Per group: pages worse than the CLI by more than ten CER points (and how many of
    those are flagged), pages ocrmp is worse on at all, and the handwriting flag."""
    print("\n| collection | pages | worse than CLI by > 10 pts (flagged) | worse at all "
          "| flagged | handwriting | table_unread |")
    print("|---|---|---|---|---|---|---|")
    for collection, pages in _groups(scores):
        group = [s for s in scores if s.page in pages and "cli" in s.cer]
        if not group:
            continue
        far = [s for s in group if s.cer["ocrmp"] - s.cer["cli"] > 0.10]
        worse = sum(s.cer["ocrmp"] > s.cer["cli"] for s in group)
        print(f"| {collection} | {len(group)} | {len(far)} ({sum(bool(s.flags) for s in far)}) "
              f"| {worse} | {sum(bool(s.flags) for s in group)} "
              f"| {sum('handwriting' in s.flags for s in group)} "
              f"| {sum('table_unread' in s.flags for s in group)} |")


def report_real(scores: list[PageScore]) -> None:
    print(f"\n# real scans: {len(scores)} pages; peers: tesseract CLI defaults "
          f"({tesseract_version()}), OCRmyPDF --rotate-pages --deskew")
    report_collections(scores)
    report_guards(scores)
    report_pages(scores)
    report_losses(scores)
