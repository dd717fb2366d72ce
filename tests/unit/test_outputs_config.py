"""OCRMP_OUTPUTS: which formats the pool writes beside each done document."""

from __future__ import annotations

import pytest

from ocrmp.config import from_env
from ocrmp.errors import ConfigError


def test_no_outputs_unless_asked() -> None:
    assert from_env({}).outputs == ()


def test_formats_are_read_once_each_in_order() -> None:
    env = {"OCRMP_OUTPUTS": " PDF, alto,pdf ", "OCRMP_STORAGE_ROOT": "/srv/docs"}
    assert from_env(env).outputs == ("pdf", "alto")


@pytest.mark.parametrize("value", ["pdf,docx", "text", "json"])
def test_a_format_the_pool_cannot_store_is_a_config_error(value: str) -> None:
    with pytest.raises(ConfigError, match="OCRMP_OUTPUTS"):
        from_env({"OCRMP_OUTPUTS": value, "OCRMP_STORAGE_ROOT": "/srv/docs"})


def test_outputs_need_a_storage_directory() -> None:
    with pytest.raises(ConfigError, match="OCRMP_OUTPUTS"):
        from_env({"OCRMP_OUTPUTS": "alto",
                  "OCRMP_STORAGE_URL": "https://store.example/{supabase_path}"})
