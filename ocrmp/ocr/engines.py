"""OCR engines behind one interface: tesserocr in-process, or the tesseract CLI.

Both run tesseract on one thread (workers x threads must not exceed cores), take a numpy
page without PNG-encoding it, return text and word confidences from one recognition, and
sort tesseract's failures into our named errors. `load_engine` checks at startup that the
engine and its language data exist, so a broken install stops a worker before it claims.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from ocrmp import lifetime
from ocrmp.ocr.errors import EngineCrashed, EngineTimeout, EngineUnavailable
from ocrmp.ocr.geometry import Box, LineKey, Word, mean_confidence
from ocrmp.ocr.settings import OcrSettings

# OpenMP reads this once, when tesseract's library loads: set it before any import of it.
os.environ.setdefault("OMP_THREAD_LIMIT", "1")

@dataclass(frozen=True)
class Recognition:
    text: str
    words: list[Word] = field(default_factory=list)
    mean_confidence: float = 0.0


class Engine(Protocol):
    name: str

    def set_deadline(self, deadline: float | None) -> None:
        """Until `deadline` (time.monotonic()), every call's timeout is what is left of
        the page's time; None: each call gets the whole page timeout."""
        ...

    def recognize(self, image: np.ndarray, *, psm: int = 6,
                  dpi: float | None = None) -> Recognition:
        """Text and words of a gray uint8 image (`dpi`: its resolution, if known)."""
        ...

    def line_confidence(self, image: np.ndarray) -> float:
        """Mean word confidence (0-100) of an image holding one line of text."""
        ...

    def detect_orientation(self, image: np.ndarray) -> tuple[int, float] | None:
        """tesseract's orientation detection: (how far the content is turned
        counter-clockwise, its confidence), or None when it finds nothing to go by."""
        ...


# Single line: how the orientation check reads a sample line both ways up.
LINE_PSM = 7
OSD_PSM = 0


def recognition_from_words(words: Sequence[Word]) -> Recognition:
    """Text rebuilt from words: lines in tesseract's order, a blank line between paragraphs.

    Both engines build their text this way, so they agree on layout to the character.
    """
    lines: list[tuple[LineKey, list[str]]] = []
    for word in words:
        if lines and lines[-1][0] == word.key:
            lines[-1][1].append(word.text)
        else:
            lines.append((word.key, [word.text]))
    parts: list[str] = []
    previous: LineKey | None = None
    for key, texts in lines:
        if previous is not None:
            parts.append("\n\n" if key[:2] != previous[:2] else "\n")
        parts.append(" ".join(texts))
        previous = key
    return Recognition("".join(parts), list(words), mean_confidence(words))


class PageTimer:
    """The part of the engines that turns a page's deadline into each call's timeout."""

    timeout_s: float
    deadline: float | None = None

    def set_deadline(self, deadline: float | None) -> None:
        self.deadline = deadline

    def call_timeout_s(self) -> float:
        """The timeout of the next call; EngineTimeout when the page's time is spent."""
        if self.deadline is None:
            return self.timeout_s
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise EngineTimeout(detail="no time left of the page timeout")
        return min(self.timeout_s, left)


def _gray_contiguous(image: np.ndarray) -> np.ndarray:
    if image.dtype != np.uint8 or image.ndim != 2:
        raise ValueError("engines take a 2-D uint8 gray image")
    return np.ascontiguousarray(image)


# --- tesserocr ---------------------------------------------------------------------------

class TesserocrEngine(PageTimer):
    """Tesseract in-process. One instance per worker: the model loads once, here."""

    name = "tesserocr"

    def __init__(self, settings: OcrSettings) -> None:
        import tesserocr

        self._tesserocr = tesserocr
        self.timeout_s = settings.page_timeout_s
        self.dpi = settings.dpi
        self._tessdata = _require_tessdata(settings).rstrip("/") + "/"
        try:
            self._api = tesserocr.PyTessBaseAPI(path=self._tessdata, lang=settings.lang)
        except RuntimeError as exc:
            raise EngineUnavailable(detail=f"tesserocr: {exc}; tessdata {self._tessdata}"
                                    ) from None
        self._osd: Any = None  # loaded on first use: most pages never need it

    def close(self) -> None:
        self._api.End()
        if self._osd is not None:
            self._osd.End()

    def recognize(self, image: np.ndarray, *, psm: int = 6,
                  dpi: float | None = None) -> Recognition:
        pixels = _gray_contiguous(image)
        buffer = pixels.tobytes()  # tesseract borrows it: keep it alive until done
        height, width = pixels.shape
        self._api.SetPageSegMode(psm)
        self._api.SetImageBytes(buffer, width, height, 1, width)
        self._api.SetSourceResolution(round(dpi or self.dpi))
        timeout_ms = max(1, int(self.call_timeout_s() * 1000))
        try:
            if not self._api.Recognize(timeout=timeout_ms):
                raise EngineTimeout(detail=f"no result within {timeout_ms} ms")
            return recognition_from_words(self._words())
        finally:
            # Free the page's image and layout now, not when the next page arrives: a
            # worker then never holds two pages' worth of tesseract state.
            self._api.Clear()

    def line_confidence(self, image: np.ndarray) -> float:
        return self.recognize(image, psm=LINE_PSM).mean_confidence

    def detect_orientation(self, image: np.ndarray) -> tuple[int, float] | None:
        # OSD has a model of its own; run from the recognition model, tesseract 5.5
        # aborts the process, so it gets its own API instance.
        if self._osd is None:
            self._osd = self._tesserocr.PyTessBaseAPI(path=self._tessdata, lang="osd",
                                                      psm=OSD_PSM)
        pixels = _gray_contiguous(image)
        buffer = pixels.tobytes()
        height, width = pixels.shape
        self._osd.SetImageBytes(buffer, width, height, 1, width)
        try:
            found = self._osd.DetectOrientationScript()
        finally:
            self._osd.Clear()
        if not found:
            return None
        # tesseract reports how far the text is turned clockwise.
        return (360 - int(found["orient_deg"])) % 360, float(found["orient_conf"])

    def _words(self) -> list[Word]:
        ril = self._tesserocr.RIL
        iterator = self._api.GetIterator()
        words: list[Word] = []
        block = paragraph = line = 0
        if iterator is None or iterator.Empty(ril.WORD):
            return words
        while True:
            # tesseract numbers blocks, paragraphs and lines from 1, as in its TSV.
            if iterator.IsAtBeginningOf(ril.BLOCK):
                block, paragraph, line = block + 1, 0, 0
            if iterator.IsAtBeginningOf(ril.PARA):
                paragraph, line = paragraph + 1, 0
            if iterator.IsAtBeginningOf(ril.TEXTLINE):
                line += 1
            word = _tesserocr_word(iterator, ril.WORD, (block, paragraph, line))
            if word is not None:
                words.append(word)
            if not iterator.Next(ril.WORD):
                return words


def _tesserocr_word(iterator: Any, level: int, key: LineKey) -> Word | None:
    text = (iterator.GetUTF8Text(level) or "").strip()
    box = iterator.BoundingBox(level)
    if not text or box is None:
        return None
    x0, y0, x1, y1 = box
    return Word(text, float(iterator.Confidence(level)), Box(x0, y0, x1, y1), key)


# --- tesseract CLI -----------------------------------------------------------------------

class CliEngine(PageTimer):
    """The tesseract binary, one process per page, TSV output from one run."""

    name = "cli"

    def __init__(self, settings: OcrSettings, binary: str | None = None) -> None:
        self.binary = binary or shutil.which("tesseract") or ""
        if not self.binary:
            raise EngineUnavailable(detail="no tesseract binary on PATH")
        self.lang = settings.lang
        self.tessdata = _require_tessdata(settings)
        self.dpi = settings.dpi
        self.timeout_s = settings.page_timeout_s
        # A RAM directory: the page never touches a disk, and PGM needs no encoding.
        self.scratch = "/dev/shm" if os.access("/dev/shm", os.W_OK) else None
        self._check_languages()

    def _check_languages(self) -> None:
        output = self._run(["--list-langs"], timeout_s=30).stdout
        available = set(output.split())
        missing = [lang for lang in self.lang.split("+") if lang not in available]
        if missing:
            raise EngineUnavailable(detail=f"no language data for {', '.join(missing)} in "
                                           f"{self.tessdata}")

    def recognize(self, image: np.ndarray, *, psm: int = 6,
                  dpi: float | None = None) -> Recognition:
        args = ["-l", self.lang, "--psm", str(psm), "--dpi", str(round(dpi or self.dpi)), "tsv"]
        return recognition_from_words(parse_tsv(self._on_image(image, args)))

    def line_confidence(self, image: np.ndarray) -> float:
        return self.recognize(image, psm=LINE_PSM).mean_confidence

    def detect_orientation(self, image: np.ndarray) -> tuple[int, float] | None:
        return parse_osd(self._on_image(image, ["--psm", str(OSD_PSM)], check=False))

    def _on_image(self, image: np.ndarray, args: list[str], check: bool = True) -> str:
        """tesseract's standard output for the image, written to a RAM file as PGM."""
        pixels = _gray_contiguous(image)
        with tempfile.NamedTemporaryFile(suffix=".pgm", dir=self.scratch) as handle:
            handle.write(_pgm(pixels))
            handle.flush()
            return self._run([handle.name, "stdout", *args], timeout_s=self.call_timeout_s(),
                             check=check).stdout

    def _run(self, args: list[str], *, timeout_s: float,
             check: bool = True) -> subprocess.CompletedProcess[str]:
        command = [self.binary, "--tessdata-dir", self.tessdata, *args]
        env = {**os.environ, "OMP_THREAD_LIMIT": "1"}
        try:
            # preexec_fn: a worker killed with its master must not leave tesseract running.
            result = subprocess.run(command, capture_output=True, text=True, env=env,
                                    timeout=timeout_s, check=False,
                                    preexec_fn=lifetime.die_with_parent)
        except subprocess.TimeoutExpired:
            raise EngineTimeout(detail=f"tesseract ran over {timeout_s:g} s") from None
        except OSError as exc:
            raise EngineUnavailable(detail=f"cannot run {self.binary}: {exc}") from None
        if check or result.returncode < 0:
            _raise_for(result)
        return result


def _raise_for(result: subprocess.CompletedProcess[str]) -> None:
    stderr = result.stderr.strip()
    if "Failed loading language" in stderr or "Could not initialize tesseract" in stderr:
        raise EngineUnavailable(detail=_last_line(stderr))
    if result.returncode < 0:
        raise EngineCrashed(detail=f"tesseract killed by signal {-result.returncode}: "
                                   f"{_last_line(stderr)}")
    if result.returncode != 0:
        raise EngineCrashed(detail=f"tesseract exit {result.returncode}: {_last_line(stderr)}")


def _last_line(text: str) -> str:
    lines = [line for line in text.splitlines() if line.strip()]
    return lines[-1][:300] if lines else "no message"


def _pgm(pixels: np.ndarray) -> bytes:
    height, width = pixels.shape
    return b"P5\n%d %d\n255\n" % (width, height) + pixels.tobytes()


def parse_osd(output: str) -> tuple[int, float] | None:
    """(counter-clockwise angle, confidence) from `tesseract --psm 0`; None without one.

    Its "Rotate" is how far to turn the page to make it upright, which is our angle.
    """
    fields = dict(line.split(":", 1) for line in output.splitlines() if ":" in line)
    try:
        return int(fields["Rotate"]) % 360, float(fields["Orientation confidence"])
    except (KeyError, ValueError):
        return None


def parse_tsv(tsv: str) -> list[Word]:
    """Words (level 5 rows) of tesseract's TSV output."""
    words: list[Word] = []
    for row in tsv.splitlines()[1:]:
        cols = row.split("\t")
        if len(cols) < 12 or cols[0] != "5" or not cols[11].strip():
            continue
        block, par, line, left, top, width, height = (int(c) for c in
                                                      (cols[2], cols[3], cols[4], *cols[6:10]))
        words.append(Word(cols[11].strip(), float(cols[10]),
                          Box(left, top, left + width, top + height), (block, par, line)))
    return words


# --- choice ------------------------------------------------------------------------------

def _require_tessdata(settings: OcrSettings) -> str:
    tessdata = settings.tessdata_dir()
    first = settings.lang.split("+")[0]
    if not tessdata or not (Path(tessdata) / f"{first}.traineddata").is_file():
        where = tessdata or "any known tessdata directory"
        raise EngineUnavailable(detail=f"no {first}.traineddata in {where}")
    return tessdata


def tesserocr_available() -> bool:
    try:
        import tesserocr  # noqa: F401
    except ImportError:
        return False
    return True


def load_engine(settings: OcrSettings) -> Engine:
    """The configured engine, loaded once; `auto` prefers tesserocr when it is installed."""
    choice = settings.engine
    if choice == "auto":
        choice = "tesserocr" if tesserocr_available() else "cli"
    if choice == "tesserocr":
        if not tesserocr_available():
            raise EngineUnavailable(detail="OCRMP_ENGINE=tesserocr but tesserocr is not "
                                           "installed (pip install 'ocrmp[fast]')")
        return TesserocrEngine(settings)
    return CliEngine(settings)


def check_engine(settings: OcrSettings) -> str:
    """Fail at start, not per job, when the engine cannot run: the chosen engine's code or
    binary and the language data must exist. Loads nothing heavy; returns the engine name."""
    choice = settings.engine
    if choice == "auto":
        choice = "tesserocr" if tesserocr_available() else "cli"
    if choice == "tesserocr" and not tesserocr_available():
        raise EngineUnavailable(detail="OCRMP_ENGINE=tesserocr but tesserocr is not "
                                       "installed (pip install 'ocrmp[fast]')")
    if choice == "cli" and shutil.which("tesseract") is None:
        raise EngineUnavailable(detail="no tesseract binary on PATH "
                                       "(apt-get install tesseract-ocr tesseract-ocr-fra)")
    _require_tessdata(settings)
    return choice
