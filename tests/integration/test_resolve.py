"""embedded.resolve: a configured database is used as it is; the embedded server only for
the marker; require_current names the environment whose schema lags."""

from __future__ import annotations

from pathlib import Path

import pytest

from ocrmp import embedded
from ocrmp.errors import SchemaError
from ocrmp.schema import require_current


def test_configured_databases_are_kept_and_no_server_is_started(dsn: str,
                                                                tmp_path: Path) -> None:
    heard: list[Path] = []
    environments = embedded.resolve({"dev": dsn, "prod": dsn}, tmp_path / "data",
                                    announce=heard.append)
    assert environments == {"dev": dsn, "prod": dsn}
    assert heard == []
    assert not (tmp_path / "data").exists()


def test_a_database_without_the_migrations_is_refused(empty_dsn: str) -> None:
    with pytest.raises(SchemaError, match="the staging database lacks migrations"):
        require_current("staging", empty_dsn)


def test_a_migrated_database_passes(dsn: str) -> None:
    require_current("dev", dsn)
