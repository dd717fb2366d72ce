from __future__ import annotations

import pytest

from ocrmp.config import ocr_from_env
from ocrmp.errors import ConfigError
from ocrmp.ocr.settings import OcrSettings, find_tessdata


def test_defaults_without_environment() -> None:
    settings = ocr_from_env({})
    assert settings == OcrSettings()
    assert (settings.engine, settings.lang, settings.dpi) == ("auto", "fra", 300)


def test_reads_every_variable() -> None:
    settings = ocr_from_env({
        "OCRMP_ENGINE": "CLI", "OCRMP_LANG": "fra+eng", "OCRMP_TESSDATA": "/td",
        "OCRMP_DPI": "200", "OCRMP_MAX_MEGAPIXELS": "12.5", "OCRMP_MAX_PAGES": "9",
        "OCRMP_PAGE_TIMEOUT": "3", "OCRMP_DOCUMENT_TIMEOUT": "90", "OCRMP_STORAGE_ROOT": "/data",
        "OCRMP_STORAGE_URL": "https://s.example/object/{bucket}/{path}",
        "OCRMP_STORAGE_TOKEN": "sekret", "OCRMP_MAX_DOCUMENT_MB": "2",
        "OCRMP_LOW_CONFIDENCE": "55", "OCRMP_TEXT_LAYER": "Use",
    })
    assert settings.engine == "cli" and settings.lang == "fra+eng"
    assert settings.tessdata_dir() == "/td"
    assert (settings.dpi, settings.max_megapixels, settings.max_pages) == (200, 12.5, 9)
    assert settings.page_timeout_s == 3 and settings.low_confidence == 55
    assert settings.document_timeout_s == 90
    assert settings.text_layer == "use"
    assert settings.max_document_bytes == 2 * 1024 * 1024
    assert settings.storage_root == "/data" and settings.storage_token == "sekret"


def test_token_never_in_repr() -> None:
    settings = ocr_from_env({"OCRMP_STORAGE_TOKEN": "sekret"})
    assert "sekret" not in repr(settings) and "sekret" not in str(settings)


@pytest.mark.parametrize(
    ("name", "value"),
    [("OCRMP_DPI", "high"), ("OCRMP_DPI", "0"), ("OCRMP_MAX_PAGES", "-1"),
     ("OCRMP_PAGE_TIMEOUT", "soon"), ("OCRMP_LOW_CONFIDENCE", "101"),
     ("OCRMP_ENGINE", "easyocr"), ("OCRMP_LANG", "fra;rm -rf"),
     ("OCRMP_STORAGE_URL", "ftp://x/{path}"), ("OCRMP_STORAGE_URL", "https://x/fixed"),
     ("OCRMP_MAX_DOCUMENT_MB", "lots"), ("OCRMP_TEXT_LAYER", "skip")],
)
def test_bad_value_names_the_variable(name: str, value: str) -> None:
    with pytest.raises(ConfigError, match=name):
        ocr_from_env({name: value})


def test_finds_installed_language_data() -> None:
    found = find_tessdata("fra")
    assert found is not None  # the test machine has tesseract-ocr-fra
    assert find_tessdata("no_such_language") is None
