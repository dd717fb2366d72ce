"""The HTTP storage backend against a real server on 127.0.0.1."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from ocrmp.ocr.errors import (
    DocumentNotFound,
    DocumentTooLarge,
    RedirectRefused,
    StorageUnavailable,
    TooManyRedirects,
)
from ocrmp.ocr.settings import OcrSettings
from ocrmp.ocr.storage import MAX_REDIRECTS, Storage, open_storage

DOCUMENT = b"%PDF-1.4 " + b"x" * 5000
FOREIGN = b"%PDF-1.4 not the document"


class Foreign(BaseHTTPRequestHandler):
    """Another origin: records what reaches it, and answers with other bytes."""

    seen: list[tuple[str, str | None]] = []

    def do_GET(self) -> None:  # noqa: N802 - the http.server API
        self.seen.append((self.path, self.headers.get("Authorization")))
        self.send_response(200)
        self.send_header("Content-Length", str(len(FOREIGN)))
        self.end_headers()
        self.wfile.write(FOREIGN)

    def log_message(self, *args: object) -> None:
        pass


class Handler(BaseHTTPRequestHandler):
    seen: list[tuple[str, str | None]] = []
    foreign = ""  # the other origin's URL, set by the fixture

    def do_GET(self) -> None:  # noqa: N802 - the http.server API
        self.seen.append((self.path, self.headers.get("Authorization")))
        if self.path.startswith("/object/moved/"):
            self._redirect(self.foreign + self.path)
        elif self.path.startswith("/object/renamed/"):
            self._redirect(self.path.replace("/renamed/", "/actes/"))
        elif self.path.startswith("/object/loop/"):
            self._redirect(self.path + "x")
        elif self.path.startswith("/object/actes/"):
            self._send(200, DOCUMENT)
        elif self.path.startswith("/object/supabase/"):
            self._send(400, b'{"statusCode":"404","error":"not_found"}')
        elif self.path.startswith("/object/broken/"):
            self._send(503, b"down")
        elif self.path.startswith("/object/nolength/"):
            self.send_response(200)
            self.end_headers()
            self.wfile.write(DOCUMENT)
        else:
            self._send(404, b"no")

    def _send(self, code: int, body: bytes) -> None:
        self.send_response(code)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _redirect(self, location: str) -> None:
        self.send_response(302)
        self.send_header("Location", location)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


def serving(handler: type[BaseHTTPRequestHandler]) -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(scope="module")
def foreign() -> Iterator[str]:
    yield from serving(Foreign)


@pytest.fixture(scope="module")
def server(foreign: str) -> Iterator[str]:
    Handler.foreign = foreign
    yield from serving(Handler)


def storage(url: str, **overrides: Any) -> Storage:
    settings = OcrSettings(storage_url_template=url + "/object/{bucket}/{path}",
                           storage_timeout_s=5, **overrides)
    return open_storage(settings)


def test_fetch_with_bearer_token(server: str) -> None:
    got = storage(server, storage_token="t0k").fetch("actes/2024/n° 7.pdf")
    assert got == DOCUMENT
    assert Handler.seen[-1] == ("/object/actes/2024/n%C2%B0%207.pdf", "Bearer t0k")


def test_missing_object_is_permanent(server: str) -> None:
    with pytest.raises(DocumentNotFound, match="other/x.pdf: was not found.*HTTP 404"):
        storage(server).fetch("other/x.pdf")
    with pytest.raises(DocumentNotFound, match="HTTP 400"):
        storage(server).fetch("supabase/x.pdf")  # Supabase's way of saying 404


def test_server_error_is_transient(server: str) -> None:
    with pytest.raises(StorageUnavailable, match="broken/x.pdf: The storage .*HTTP 503"):
        storage(server).fetch("broken/x.pdf")


def test_size_cap_with_and_without_content_length(server: str) -> None:
    for path in ("actes/big.pdf", "nolength/big.pdf"):
        with pytest.raises(DocumentTooLarge):
            storage(server, max_document_bytes=1000).fetch(path)


def test_unreachable_server_is_transient() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # bound, never listening: connection refused
        with pytest.raises(StorageUnavailable, match="refused"):
            storage(f"http://127.0.0.1:{port}").fetch("actes/x.pdf")


def test_the_token_never_follows_a_redirect_to_another_origin(server: str,
                                                              foreign: str) -> None:
    Foreign.seen.clear()
    with pytest.raises(RedirectRefused):
        storage(server, storage_token="t0k").fetch("moved/x.pdf")
    assert Foreign.seen == []  # neither the token nor a request reached the other origin


def test_a_redirect_within_the_origin_is_followed_with_the_token(server: str) -> None:
    got = storage(server, storage_token="t0k").fetch("renamed/x.pdf")
    assert got == DOCUMENT
    assert Handler.seen[-1] == ("/object/actes/x.pdf", "Bearer t0k")


def test_redirects_are_capped(server: str) -> None:
    Handler.seen.clear()
    with pytest.raises(TooManyRedirects):
        storage(server).fetch("loop/x.pdf")
    assert len(Handler.seen) == MAX_REDIRECTS + 1
