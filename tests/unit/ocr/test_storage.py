"""Local storage; the HTTP backend is tested against a real server in integration."""

from __future__ import annotations

import io
import os
import socket
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from ocrmp.errors import ConfigError
from ocrmp.ocr.errors import (
    DocumentNotFound,
    DocumentTooLarge,
    NotARegularFile,
    PathEscapesRoot,
    RedirectRefused,
)
from ocrmp.ocr.pages import count_pages
from ocrmp.ocr.settings import OcrSettings
from ocrmp.ocr.storage import (
    HttpStorage,
    LocalStorage,
    _SameOriginRedirects,
    open_storage,
    origin,
)
from tests.hostile import blank_pages


@pytest.fixture
def root(tmp_path: Path) -> Path:
    (tmp_path / "root" / "bucket" / "sub").mkdir(parents=True)
    (tmp_path / "root" / "bucket" / "sub" / "a b.pdf").write_bytes(b"%PDF-1.4 doc")
    (tmp_path / "secret.pdf").write_bytes(b"outside")
    return tmp_path / "root"


def test_fetches_a_document_under_the_root(root: Path) -> None:
    storage = open_storage(OcrSettings(storage_root=str(root)))
    assert storage.fetch("bucket/sub/a b.pdf") == b"%PDF-1.4 doc"


@pytest.mark.parametrize("path", ["../secret.pdf", "bucket/../../secret.pdf", "/etc/passwd",
                                  "bucket//x", "", "C:/x", "bucket/./x"])
def test_paths_leaving_the_root_are_refused(root: Path, path: str) -> None:
    with pytest.raises(PathEscapesRoot, match="outside the storage root"):
        LocalStorage(str(root), max_bytes=100).fetch(path)


def test_symlink_out_of_the_root_is_refused(root: Path) -> None:
    os.symlink(root.parent / "secret.pdf", root / "bucket" / "link.pdf")
    with pytest.raises(PathEscapesRoot):
        LocalStorage(str(root), max_bytes=100).fetch("bucket/link.pdf")


def test_missing_document(root: Path) -> None:
    with pytest.raises(DocumentNotFound, match="bucket/none.pdf: was not found"):
        LocalStorage(str(root), max_bytes=100).fetch("bucket/none.pdf")


def test_size_cap(root: Path) -> None:
    with pytest.raises(DocumentTooLarge, match="document size cap"):
        LocalStorage(str(root), max_bytes=5).fetch("bucket/sub/a b.pdf")


def test_configuration_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="OCRMP_STORAGE_ROOT"):
        open_storage(OcrSettings())
    with pytest.raises(ConfigError, match="OCRMP_STORAGE_ROOT"):
        open_storage(OcrSettings(storage_root=str(tmp_path / "absent")))


def test_url_template_quotes_parts_and_hides_the_token() -> None:
    storage = HttpStorage("https://s.example/object/{bucket}/{path}?x={supabase_path}",
                          token="sekret", timeout_s=1, max_bytes=10)
    assert storage.url_for("actes/2024/n° 1.pdf") == (
        "https://s.example/object/actes/2024/n%C2%B0%201.pdf?x=actes/2024/n%C2%B0%201.pdf")
    assert "sekret" not in repr(storage)
    with pytest.raises(PathEscapesRoot):
        storage.url_for("actes/../../admin")


def test_https_to_http_is_refused_even_on_the_same_host() -> None:
    redirects = _SameOriginRedirects("actes/x.pdf")
    request = urllib.request.Request("https://storage.example/object/actes/x.pdf",
                                     headers={"Authorization": "Bearer t0k"})
    with pytest.raises(RedirectRefused):
        redirects.redirect_request(request, io.BytesIO(), 302, "Found", {},
                                   "http://storage.example/object/actes/x.pdf")


def test_an_origin_is_scheme_host_and_port() -> None:
    assert origin("https://Storage.example/a") == origin("https://storage.example:443/b")
    assert origin("https://storage.example/a") != origin("https://storage.example:8443/a")
    assert origin("https://storage.example/a") != origin("https://evil.example/a")


@pytest.mark.parametrize("make", [os.mkfifo, lambda path: socket_at(path)],
                         ids=["fifo", "socket"])
def test_a_special_file_in_the_root_is_refused_at_once(root: Path, make: Any) -> None:
    make(root / "bucket" / "pipe.pdf")
    local = LocalStorage(str(root), max_bytes=1000)
    with pytest.raises(NotARegularFile):
        local.open("bucket/pipe.pdf")
    with pytest.raises(NotARegularFile):
        local.fetch("bucket/pipe.pdf")


def socket_at(path: Path) -> None:
    with socket.socket(socket.AF_UNIX) as sock:
        sock.bind(str(path))


def test_a_document_swapped_for_a_link_after_the_open_is_never_read(root: Path) -> None:
    """Reads go through the descriptor opened and checked, never the name: a link to a
    file outside the root put in its place afterwards is not what is read."""
    name = root / "bucket" / "sub" / "a b.pdf"
    with LocalStorage(str(root), max_bytes=100).open("bucket/sub/a b.pdf") as document:
        name.unlink()
        name.symlink_to(root.parent / "secret.pdf")
        assert document.path.read_bytes() == b"%PDF-1.4 doc"
        assert document.read(100) == b"%PDF-1.4 doc"


def test_pages_are_counted_in_the_opened_file_not_the_one_named(root: Path) -> None:
    (root / "bucket" / "two.pdf").write_bytes(blank_pages(2))
    (root.parent / "five.pdf").write_bytes(blank_pages(5))
    with LocalStorage(str(root), max_bytes=1 << 20).open("bucket/two.pdf") as document:
        (root / "bucket" / "two.pdf").unlink()
        (root / "bucket" / "two.pdf").symlink_to(root.parent / "five.pdf")
        assert count_pages(document.path, source="bucket/two.pdf") == 2


def test_a_directory_that_is_a_link_is_refused(root: Path) -> None:
    (root.parent / "elsewhere").mkdir()
    (root.parent / "elsewhere" / "a b.pdf").write_bytes(b"%PDF-1.4 elsewhere")
    (root / "bucket" / "out").symlink_to(root.parent / "elsewhere")
    with pytest.raises(PathEscapesRoot):
        LocalStorage(str(root), max_bytes=100).fetch("bucket/out/a b.pdf")


def test_a_symlink_loop_is_refused_for_good(root: Path) -> None:
    (root / "bucket" / "a.pdf").symlink_to(root / "bucket" / "b.pdf")
    (root / "bucket" / "b.pdf").symlink_to(root / "bucket" / "a.pdf")
    with pytest.raises(PathEscapesRoot) as refused:
        LocalStorage(str(root), max_bytes=100).fetch("bucket/a.pdf")
    assert refused.value.permanent


def test_the_opened_descriptor_is_closed(root: Path) -> None:
    with LocalStorage(str(root), max_bytes=100).open("bucket/sub/a b.pdf") as document:
        fd = document.fd
    with pytest.raises(OSError):
        os.fstat(fd)
