"""The OCR settings: what the pipeline, its engines and storage are given. They are read with
the rest of the configuration (`ocrmp.config`), from the environment, config file and flags."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from ocrmp.errors import ConfigError

ENGINES = ("auto", "tesserocr", "cli")
TEXT_LAYER_MODES = ("ignore", "use")

# Where distributions put tesseract's language data, most specific first.
TESSDATA_CANDIDATES = (
    "/usr/share/tesseract-ocr/5/tessdata",
    "/usr/share/tesseract-ocr/4.00/tessdata",
    "/usr/share/tessdata",
    "/usr/local/share/tessdata",
    "/opt/homebrew/share/tessdata",
)

_RENDER_HEADROOM = 128 * 1024 * 1024


@dataclass(frozen=True)
class OcrSettings:
    engine: str = "auto"
    lang: str = "fra"
    tessdata: str | None = None  # None: found by find_tessdata()
    dpi: int = 300
    max_megapixels: float = 60.0  # an A3 page at 400 dpi is ~31 MP
    max_pages: int = 2000
    page_timeout_s: float = 120.0  # to render and read one page
    document_timeout_s: float = 3600.0  # the cap on pages x page_timeout_s
    storage_root: str | None = None
    storage_url_template: str | None = None
    storage_token: str | None = field(default=None, repr=False)
    storage_timeout_s: float = 30.0
    max_document_bytes: int = 200 * 1024 * 1024
    low_confidence: float = 70.0  # mean word confidence (0-100) under which a page is flagged
    text_layer: str = "ignore"  # use: a born-digital page's own text, not recognised

    def __post_init__(self) -> None:
        if self.engine not in ENGINES:
            raise ConfigError(f"OCRMP_ENGINE must be one of {', '.join(ENGINES)}, "
                              f"not {self.engine!r}")
        if self.text_layer not in TEXT_LAYER_MODES:
            raise ConfigError(f"OCRMP_TEXT_LAYER must be one of {', '.join(TEXT_LAYER_MODES)}, "
                              f"not {self.text_layer!r}")

    @property
    def render_memory_bytes(self) -> int:
        """What rendering one page may allocate: the largest page allowed, as pdfium's
        4-byte pixels, and room to parse the page's content."""
        return int(self.max_megapixels * 1e6 * 4) + _RENDER_HEADROOM

    def tessdata_dir(self) -> str | None:
        """The language-data directory: the configured one, or the first that holds `lang`."""
        return self.tessdata or find_tessdata(self.lang)


def find_tessdata(lang: str) -> str | None:
    first = lang.split("+")[0]
    candidates = [os.environ.get("TESSDATA_PREFIX", ""), *TESSDATA_CANDIDATES]
    for directory in filter(None, candidates):
        if (Path(directory) / f"{first}.traineddata").is_file():
            return directory
    return None
