"""Settings from environment variables: defaults, the guide's names, clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from ocrmp.config import (
    EMBEDDED,
    MAX_POOL_SIZE,
    Source,
    from_env,
    load,
    load_config_file,
    parse_bytes,
    parse_duration,
)
from ocrmp.errors import ConfigError


def test_nothing_configured_means_an_embedded_dev() -> None:
    assert from_env({}).environments == {"dev": EMBEDDED}


def test_guide_variables_are_read() -> None:
    settings = from_env({"OCR_WORKER_POOL_SIZE": "2", "OCR_MIN_INDEX_WORKERS": "1",
                         "OCR_MIN_ACTE_WORKERS": "1", "OCR_REBALANCE_INTERVAL_MS": "250",
                         "OCR_DEV": "true", "OCR_STAGING": "false", "OCR_PROD": "true",
                         "DEV_DATABASE_URL": "postgresql://d", "PROD_DATABASE_URL": "postgresql://p",
                         "STAGING_DATABASE_URL": "postgresql://s", "REDIS_URL": "redis://x"})
    assert settings.size == 2 and settings.rebalance_interval_s == 0.25
    assert settings.environments == {"prod": "postgresql://p", "dev": "postgresql://d"}
    assert settings.redis_url == "redis://x"


@pytest.mark.parametrize(("variable", "value"), [
    ("OCR_WORKER_POOL_SIZE", "zero"), ("OCR_WORKER_POOL_SIZE", "0"), ("OCR_DEV", "maybe"),
    ("OCRMP_MAX_MEMORY", "lots"), ("OCRMP_JOB_TIMEOUT", "-3"), ("OCRMP_MEMORY_RESERVE", "150%"),
])
def test_a_bad_value_names_its_variable(variable: str, value: str) -> None:
    with pytest.raises(ConfigError, match=variable):
        from_env({variable: value})


def test_a_pool_larger_than_the_slot_table_is_a_config_error() -> None:
    assert from_env({"OCR_WORKER_POOL_SIZE": str(MAX_POOL_SIZE)}).size == MAX_POOL_SIZE
    with pytest.raises(ConfigError, match=f"expected 1 to {MAX_POOL_SIZE}"):
        from_env({"OCR_WORKER_POOL_SIZE": str(MAX_POOL_SIZE + 1)})


def test_enabled_environment_without_dsn_is_an_error() -> None:
    with pytest.raises(ConfigError, match="PROD_DATABASE_URL is not set"):
        from_env({"OCR_PROD": "true", "DEV_DATABASE_URL": "postgresql://d", "OCR_DEV": "true"})


def test_pm2_style_sizes_and_durations() -> None:
    assert parse_bytes("2G") == 2 << 30 and parse_bytes("512M") == 512 << 20
    assert parse_bytes("1.5GB") == int(1.5 * (1 << 30))
    assert parse_duration("250ms") == 0.25 and parse_duration("5m") == 300


def test_config_file_overrides_environment_and_flags_override_both(tmp_path: Path) -> None:
    config = tmp_path / "ocrmp.env"
    config.write_text("# pool\nOCR_WORKER_POOL_SIZE=3\nOCRMP_MAX_MEMORY='1G'\n")
    settings = load(Source(config, (("max_jobs_per_worker", 7),)),
                    {"OCR_WORKER_POOL_SIZE": "5", "OCRMP_MAX_JOBS_PER_WORKER": "1"})
    assert (settings.size, settings.max_memory, settings.max_jobs_per_worker) == (3, 1 << 30, 7)


def test_ocr_settings_come_from_the_config_file_too(tmp_path: Path) -> None:
    config = tmp_path / "ocrmp.env"
    config.write_text("OCRMP_LANG=fra+eng\nOCRMP_DPI=200\nOCRMP_STORAGE_ROOT=/srv/scans\n")
    settings = load(Source(config, (("engine", "cli"),)), {"OCRMP_DPI": "150"})
    assert (settings.ocr.lang, settings.ocr.dpi) == ("fra+eng", 200)
    assert settings.ocr.storage_root == "/srv/scans" and settings.ocr.engine == "cli"


def test_a_bad_config_line_names_file_and_line(tmp_path: Path) -> None:
    config = tmp_path / "ocrmp.env"
    config.write_text("OCR_DEV=true\nthis is not a setting\n")
    with pytest.raises(ConfigError, match="ocrmp.env:2"):
        load(Source(config), {})


@pytest.mark.parametrize("line", ["DEV_DATABASE_URL postgresql://ocr:s3cret@db/registre",
                                  "OCRMP_STORAGE_TOKEN: s3cret",
                                  "postgresql://ocr:s3cret@db/registre",
                                  "PROD DATABASE_URL=host=db password=s3cret"])
def test_a_malformed_config_line_is_reported_without_its_secret(tmp_path: Path,
                                                                line: str) -> None:
    path = tmp_path / "ocrmp.env"
    path.write_text(f"# settings\nOCR_DEV=true\n{line}\n")
    with pytest.raises(ConfigError) as raised:
        load_config_file(path)
    assert f"{path}:3: expected KEY=VALUE" in str(raised.value)
    assert "s3cret" not in str(raised.value)
