"""Real scans with ground truth: reading them, scoring a text against them, and the peers.

A corpus root (`../shared/corpus` in a developer's checkout; never copied into the
repository) holds collections in two layouts:

- ALTO: `X.jpg|jpeg|png|tif` beside `X.xml`, an ALTO file whose `TextLine`s are in reading
  order (Tapuscorpus). Its transcription marks are undone before scoring: `~~~` stands for
  a handwritten word and is dropped, a leading `_` (underlined) or `^` (superscript) is
  stripped, and the `⟦ ⟧` of corrections are dropped with their words kept.
- Plain text: `X.txt` beside images named `X.tif` or `X-rotated-*.png` (tesseract's test
  pages: one transcription for every turned copy of a page).

Scores: CER is the edit distance over the reference's length, whitespace runs collapsed;
the bag-of-words error counts missing plus extra words (a multiset difference) over the
reference's word count, halved, so that reading columns in another order costs nothing.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from ocrmp.corpus import levenshtein

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".tif", ".tiff")
HANDWRITTEN_WORD = "~~~"


@dataclass(frozen=True)
class RealPage:
    collection: str  # the folder's path under the corpus root, e.g. typewritten-fr/europeana
    name: str  # the image's file name
    image: Path
    reference: str


# --- reading the corpus ------------------------------------------------------------------

def undo_marks(words: list[str]) -> list[str]:
    """A transcription's words as they are printed: handwriting dropped, marks stripped."""
    out = []
    for word in words:
        if HANDWRITTEN_WORD in word:
            continue
        word = word.replace("⟦", "").replace("⟧", "").lstrip("_^")
        if word:
            out.append(word)
    return out


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def read_alto(path: Path) -> str:
    """The printed text of an ALTO file: one line per TextLine, in the file's order."""
    lines = []
    for element in ET.parse(path).iter():
        if _local(element.tag) != "TextLine":
            continue
        words = [s.get("CONTENT", "") for s in element.iter() if _local(s.tag) == "String"]
        line = " ".join(undo_marks(" ".join(words).split()))
        if line:
            lines.append(line)
    return "\n".join(lines)


def _image_beside(xml: Path) -> Path | None:
    for suffix in IMAGE_SUFFIXES:
        candidate = xml.with_suffix(suffix)
        if candidate.exists():
            return candidate
    return None


def _plain_reference(image: Path) -> Path | None:
    stem = image.stem.split("-rotated")[0]
    candidate = image.with_name(stem + ".txt")
    return candidate if candidate.exists() else None


def discover(root: Path) -> list[RealPage]:
    """Every page with ground truth under root, sorted by collection and name."""
    pages = []
    for xml in sorted(root.rglob("*.xml")):
        image = _image_beside(xml)
        if image is not None:
            pages.append(RealPage(str(xml.parent.relative_to(root)), image.name, image,
                                  read_alto(xml)))
    for image in sorted(p for p in root.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES):
        if image.with_suffix(".xml").exists():
            continue
        text = _plain_reference(image)
        if text is not None:
            pages.append(RealPage(str(image.parent.relative_to(root)), image.name, image,
                                  text.read_text(encoding="utf-8")))
    return sorted(pages, key=lambda p: (p.collection, p.name))


# --- scores ------------------------------------------------------------------------------

def collapse(text: str) -> str:
    # ocrmp's index text separates cells with " | ", which no reference has.
    return " ".join(text.replace(" | ", " ").split())


def char_error_rate(reference: str, hypothesis: str) -> float:
    ref, hyp = collapse(reference), collapse(hypothesis)
    if not ref:
        return 0.0 if not hyp else 1.0
    return levenshtein(ref, hyp) / len(ref)


def bag_of_words_error(reference: str, hypothesis: str) -> float:
    ref, hyp = Counter(collapse(reference).split()), Counter(collapse(hypothesis).split())
    total = sum(ref.values())
    if not total:
        return 0.0 if not hyp else 1.0
    missing = sum((ref - hyp).values())
    extra = sum((hyp - ref).values())
    return (missing + extra) / total / 2


# --- the systems -------------------------------------------------------------------------

@dataclass
class Reading:
    text: str
    seconds: float
    note: str = ""


def tesseract_version() -> str:
    done = subprocess.run(["tesseract", "--version"], capture_output=True, text=True,
                          check=False)
    return (done.stdout or done.stderr).splitlines()[0].strip()


def read_with_cli(image: Path, lang: str) -> Reading:
    """The bare tesseract binary with its defaults, as a user runs it on the scan."""
    started = time.perf_counter()
    done = subprocess.run(["tesseract", str(image), "stdout", "-l", lang],
                          capture_output=True, text=True, check=False,
                          env={**os.environ, "OMP_THREAD_LIMIT": "1"})
    seconds = time.perf_counter() - started
    note = "" if done.returncode == 0 else f"exit {done.returncode}: {done.stderr[-200:]}"
    return Reading(done.stdout, seconds, note)


def ocrmypdf_binary() -> str | None:
    here = Path(sys.executable).parent / "ocrmypdf"
    return str(here) if here.exists() else shutil.which("ocrmypdf")


def _ocrmypdf_input(image: Path, folder: Path) -> tuple[Path, int | None]:
    """An image OCRmyPDF accepts (no alpha channel), and its resolution if the file has none."""
    from PIL import Image

    with Image.open(image) as opened:
        dpi = opened.info.get("dpi")
        known = bool(dpi) and float(dpi[0]) >= 1
        if opened.mode in ("RGBA", "LA", "P"):
            flat = folder / (image.stem + ".png")
            opened.convert("RGB").save(flat, dpi=dpi if known else (300, 300))
            return flat, None
    # Without a resolution OCRmyPDF refuses an image; 300 dpi is what a user would pass.
    return image, None if known else 300


def read_with_ocrmypdf(binary: str, image: Path, lang: str) -> Reading:
    """OCRmyPDF as its documentation suggests for scans: pages turned upright, deskewed."""
    with tempfile.TemporaryDirectory(prefix="ocrmp-real-") as tmp:
        folder = Path(tmp)
        source, image_dpi = _ocrmypdf_input(image, folder)
        sidecar = folder / "out.txt"
        command = [binary, "--rotate-pages", "--deskew", "-l", lang, "--sidecar", str(sidecar),
                   "--output-type", "pdf", "-j", "1"]
        if image_dpi:
            command += ["--image-dpi", str(image_dpi)]
        started = time.perf_counter()
        done = subprocess.run([*command, str(source), str(folder / "out.pdf")],
                              capture_output=True, text=True, check=False,
                              env={**os.environ, "OMP_THREAD_LIMIT": "1"})
        seconds = time.perf_counter() - started
        if done.returncode != 0:
            return Reading("", seconds, f"exit {done.returncode}: {done.stderr[-200:]}")
        return Reading(sidecar.read_text(encoding="utf-8"), seconds)


def read_with_ocrmp(pipeline: object, image: Path, kind: str) -> tuple[Reading, dict]:
    started = time.perf_counter()
    result = pipeline.process(image, kind, source=image.name)  # type: ignore[attr-defined]
    seconds = time.perf_counter() - started
    return Reading(result.text, seconds), result.to_json()


# --- a cache for the peers' readings -----------------------------------------------------

class PeerCache:
    """Peers' readings by (system, version, language, image digest): reruns of ocrmp alone
    skip minutes of peer time. Off unless asked for; results say when it was used."""

    def __init__(self, folder: Path | None) -> None:
        self.folder = folder
        if folder is not None:
            folder.mkdir(parents=True, exist_ok=True)

    def get(self, key: tuple[str, ...], image: Path, read: Callable[[], Reading]) -> Reading:
        if self.folder is None:
            return read()
        digest = hashlib.sha256(image.read_bytes() + "\0".join(key).encode()).hexdigest()[:24]
        path = self.folder / f"{digest}.json"
        if path.exists():
            data = json.loads(path.read_text(encoding="utf-8"))
            return Reading(data["text"], data["seconds"], data.get("note", ""))
        reading = read()
        if not reading.note:
            path.write_text(json.dumps(reading.__dict__), encoding="utf-8")
        return reading


def iter_collections(pages: list[RealPage]) -> Iterator[tuple[str, list[RealPage]]]:
    for collection in sorted({p.collection for p in pages}):
        yield collection, [p for p in pages if p.collection == collection]


def matches(pattern: str | None, page: RealPage) -> bool:
    return pattern is None or re.search(pattern, f"{page.collection}/{page.name}") is not None
