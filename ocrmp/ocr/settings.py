"""OCR settings, read once from the environment and validated there."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

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

T = TypeVar("T")

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

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> OcrSettings:
        env = os.environ if environ is None else environ
        megabytes = _read(env, "OCRMP_MAX_DOCUMENT_MB", _positive(float), 200.0)
        return cls(
            engine=env.get("OCRMP_ENGINE", "auto").strip().lower() or "auto",
            lang=_read(env, "OCRMP_LANG", _lang, "fra"),
            tessdata=env.get("OCRMP_TESSDATA") or None,
            dpi=_read(env, "OCRMP_DPI", _positive(int), 300),
            max_megapixels=_read(env, "OCRMP_MAX_MEGAPIXELS", _positive(float), 60.0),
            max_pages=_read(env, "OCRMP_MAX_PAGES", _positive(int), 2000),
            page_timeout_s=_read(env, "OCRMP_PAGE_TIMEOUT", _positive(float), 120.0),
            document_timeout_s=_read(env, "OCRMP_DOCUMENT_TIMEOUT", _positive(float), 3600.0),
            storage_root=env.get("OCRMP_STORAGE_ROOT") or None,
            storage_url_template=_read(env, "OCRMP_STORAGE_URL", _url_template, None),
            storage_token=env.get("OCRMP_STORAGE_TOKEN") or None,
            max_document_bytes=int(megabytes * 1024 * 1024),
            low_confidence=_read(env, "OCRMP_LOW_CONFIDENCE", _percent, 70.0),
            text_layer=env.get("OCRMP_TEXT_LAYER", "ignore").strip().lower() or "ignore",
        )

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


def _read(env: Mapping[str, str], name: str, parse: Callable[[str], T], default: T) -> T:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        return parse(raw)
    except ValueError as exc:
        raise ConfigError(f"{name}={raw!r} is invalid: {exc}") from None


def _positive(kind: Callable[[str], T]) -> Callable[[str], T]:
    def parse(raw: str) -> T:
        value = kind(raw)
        if not value > 0:  # type: ignore[operator]
            raise ValueError("must be greater than 0")
        return value

    return parse


def _percent(raw: str) -> float:
    value = float(raw)
    if not 0 <= value <= 100:
        raise ValueError("must be between 0 and 100")
    return value


def _lang(raw: str) -> str:
    parts = raw.split("+")
    if not all(part.replace("_", "").isalnum() for part in parts):
        raise ValueError("expected tesseract language codes such as fra or fra+eng")
    return raw


def _url_template(raw: str) -> str:
    if not raw.startswith(("http://", "https://")):
        raise ValueError("must start with http:// or https://")
    if not any(key in raw for key in ("{bucket}", "{path}", "{supabase_path}")):
        raise ValueError("must contain {supabase_path}, or {bucket} and {path}")
    return raw
