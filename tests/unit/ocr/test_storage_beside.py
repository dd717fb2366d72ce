"""Outputs written beside a document under the storage root."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from ocrmp.ocr.errors import PathEscapesRoot
from ocrmp.ocr.storage import LocalStorage


@pytest.fixture
def storage(tmp_path: Path) -> LocalStorage:
    (tmp_path / "root" / "acte").mkdir(parents=True)
    (tmp_path / "root" / "acte" / "deed.pdf").write_bytes(b"%PDF-1.4 doc")
    return LocalStorage(str(tmp_path / "root"), max_bytes=1 << 20)


def test_an_output_is_named_after_its_document_and_its_path_given(
        storage: LocalStorage) -> None:
    assert storage.store_beside("acte/deed.pdf", ".alto.xml", b"<alto/>") == "acte/deed.alto.xml"
    assert (storage.root / "acte" / "deed.alto.xml").read_bytes() == b"<alto/>"
    assert sorted(p.name for p in (storage.root / "acte").iterdir()) == [
        "deed.alto.xml", "deed.pdf"]  # nothing partial left


def test_a_link_in_the_outputs_place_is_replaced_not_followed(storage: LocalStorage,
                                                              tmp_path: Path) -> None:
    victim = tmp_path / "victim"
    victim.write_bytes(b"keep")
    os.symlink(victim, storage.root / "acte" / "deed.ocr.pdf")
    storage.store_beside("acte/deed.pdf", ".ocr.pdf", b"%PDF-1.4 new")
    assert victim.read_bytes() == b"keep"
    assert not (storage.root / "acte" / "deed.ocr.pdf").is_symlink()


def test_an_output_never_leaves_the_root(storage: LocalStorage, tmp_path: Path) -> None:
    os.symlink(tmp_path, storage.root / "out")
    for path in ("../deed.pdf", "out/deed.pdf"):
        with pytest.raises(PathEscapesRoot):
            storage.store_beside(path, ".alto.xml", b"x")
    assert not (tmp_path / "deed.alto.xml").exists()


def test_an_output_that_cannot_be_written_raises_oserror(storage: LocalStorage) -> None:
    (storage.root / "acte" / "deed.hocr").mkdir()
    (storage.root / "acte" / "deed.hocr" / "x").write_bytes(b"")
    with pytest.raises(OSError):
        storage.store_beside("acte/deed.pdf", ".hocr", b"x")
    assert [p.name for p in (storage.root / "acte").iterdir() if p.name.startswith(".")] == []
