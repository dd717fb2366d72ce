"""Storage: a job's `supabase_path` (`bucket/filename`) to the document's bytes.

Two backends behind one small interface: a local root directory (a mounted volume) and
HTTP(S) with a URL template and an optional bearer token (Supabase Storage's object
endpoint, or any web server).
"""

from __future__ import annotations

import os
import stat
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any, Protocol

from ocrmp.errors import ConfigError
from ocrmp.ocr.errors import (
    DocumentNotFound,
    DocumentTooLarge,
    NotARegularFile,
    PathEscapesRoot,
    RedirectRefused,
    StorageUnavailable,
    TooManyRedirects,
)
from ocrmp.ocr.settings import OcrSettings
from ocrmp.outputs.files import write_whole

_CHUNK = 1 << 20
MAX_REDIRECTS = 3


class Storage(Protocol):
    def fetch(self, supabase_path: str) -> bytes:
        """The document's bytes; named errors for missing, refused or unreachable."""
        ...


def open_storage(settings: OcrSettings) -> Storage:
    if settings.storage_url_template:
        return HttpStorage(settings.storage_url_template, token=settings.storage_token,
                           timeout_s=settings.storage_timeout_s,
                           max_bytes=settings.max_document_bytes)
    if settings.storage_root:
        return LocalStorage(settings.storage_root, max_bytes=settings.max_document_bytes)
    raise ConfigError("no document storage configured: set OCRMP_STORAGE_ROOT to a directory "
                      "or OCRMP_STORAGE_URL to a URL template")


def _relative_parts(supabase_path: str) -> list[str]:
    """The path's parts, refusing anything that could leave the root before touching disk."""
    if not supabase_path or supabase_path.startswith(("/", "\\")) or "\x00" in supabase_path:
        raise PathEscapesRoot(supabase_path or "(empty path)")
    parts = supabase_path.replace("\\", "/").split("/")
    if any(part in ("", ".", "..") for part in parts) or ":" in parts[0]:
        raise PathEscapesRoot(supabase_path)
    return parts


class LocalStorage:
    def __init__(self, root: str, *, max_bytes: int) -> None:
        self.root = Path(root).resolve()
        self.max_bytes = max_bytes
        if not self.root.is_dir():
            raise ConfigError(f"OCRMP_STORAGE_ROOT={root!r} is not a directory")

    def locate(self, supabase_path: str) -> Path:
        """The document's file, checked as fetch checks it, for reading page by page."""
        target = self.root.joinpath(*_relative_parts(supabase_path))
        # resolve() follows symlinks: a link pointing out of the root is caught here.
        resolved = target.resolve()
        if not resolved.is_relative_to(self.root):
            raise PathEscapesRoot(supabase_path)
        try:
            info = resolved.stat()
        except (FileNotFoundError, NotADirectoryError):
            raise DocumentNotFound(supabase_path) from None
        except PermissionError as exc:
            raise StorageUnavailable(supabase_path, f"permission denied: {exc}") from None
        if stat.S_ISDIR(info.st_mode):
            raise DocumentNotFound(supabase_path)
        refuse_irregular(info, supabase_path)
        if info.st_size > self.max_bytes:
            raise DocumentTooLarge(supabase_path, f"{info.st_size} bytes")
        return resolved

    def store_beside(self, supabase_path: str, suffix: str, data: bytes) -> str:
        """`data` written whole beside the document, named as it is with `suffix` in place
        of its own suffix (acte/x.pdf, .ocr.pdf: acte/x.ocr.pdf); its path in storage.
        OSError when it cannot be written."""
        parts = _relative_parts(supabase_path)
        folder = self.root.joinpath(*parts[:-1]).resolve()
        if not folder.is_relative_to(self.root):
            raise PathEscapesRoot(supabase_path)
        name = Path(parts[-1]).stem + suffix
        # A link in the output's place is replaced, never followed (the write is a rename).
        write_whole(folder / name, data)
        return "/".join([*parts[:-1], name])

    def fetch(self, supabase_path: str) -> bytes:
        resolved = self.locate(supabase_path)
        try:
            # Checked again on what was opened: the file may have been replaced meanwhile,
            # and opening a FIFO without O_NONBLOCK waits for a writer.
            fd = os.open(resolved, os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW | os.O_CLOEXEC)
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
            raise DocumentNotFound(supabase_path) from None
        except PermissionError as exc:
            raise StorageUnavailable(supabase_path, f"permission denied: {exc}") from None
        except OSError:  # ELOOP: a link put in its place since locate()
            raise PathEscapesRoot(supabase_path) from None
        with os.fdopen(fd, "rb") as file:
            refuse_irregular(os.fstat(fd), supabase_path)
            data = file.read(self.max_bytes + 1)
        if len(data) > self.max_bytes:
            raise DocumentTooLarge(supabase_path, f"more than {self.max_bytes} bytes")
        return data


def refuse_irregular(info: os.stat_result, source: str) -> None:
    """NotARegularFile for a FIFO, device or socket: reading one may block forever."""
    if not stat.S_ISREG(info.st_mode):
        kind = ("a FIFO" if stat.S_ISFIFO(info.st_mode) else "a socket"
                if stat.S_ISSOCK(info.st_mode) else "a directory"
                if stat.S_ISDIR(info.st_mode) else "a device or other special file")
        raise NotARegularFile(source, kind)


class HttpStorage:
    def __init__(self, template: str, *, token: str | None, timeout_s: float,
                 max_bytes: int) -> None:
        self.template = template
        self._token = token
        self.timeout_s = timeout_s
        self.max_bytes = max_bytes

    def __repr__(self) -> str:
        return f"HttpStorage({self.template!r})"  # never the token

    def url_for(self, supabase_path: str) -> str:
        parts = _relative_parts(supabase_path)
        quote = urllib.parse.quote
        return self.template.format(
            supabase_path=quote("/".join(parts)),
            bucket=quote(parts[0]),
            path=quote("/".join(parts[1:])),
        )

    def fetch(self, supabase_path: str) -> bytes:
        request = urllib.request.Request(self.url_for(supabase_path))
        if self._token:
            request.add_header("Authorization", f"Bearer {self._token}")
        opener = urllib.request.build_opener(_SameOriginRedirects(supabase_path))
        try:
            with opener.open(request, timeout=self.timeout_s) as response:
                return self._read_capped(response, supabase_path)
        except urllib.error.HTTPError as exc:
            raise self._http_error(exc, supabase_path) from None
        except (urllib.error.URLError, OSError) as exc:
            raise StorageUnavailable(supabase_path, str(getattr(exc, "reason", exc))) from None

    def _read_capped(self, response: object, supabase_path: str) -> bytes:
        declared = int(getattr(response, "headers", {}).get("Content-Length") or 0)
        if declared > self.max_bytes:
            raise DocumentTooLarge(supabase_path, f"{declared} bytes")
        chunks: list[bytes] = []
        total = 0
        read = response.read  # type: ignore[attr-defined]
        while chunk := read(_CHUNK):
            total += len(chunk)
            # A server may lie about or omit Content-Length: count what actually arrives.
            if total > self.max_bytes:
                raise DocumentTooLarge(supabase_path, f"more than {self.max_bytes} bytes")
            chunks.append(chunk)
        return b"".join(chunks)

    @staticmethod
    def _http_error(exc: urllib.error.HTTPError, supabase_path: str) -> Exception:
        body = _body(exc)
        exc.close()
        # Supabase answers 400 with "not_found" for a missing object, others 404 or 410.
        if exc.code in (404, 410) or (exc.code == 400 and b"not_found" in body):
            return DocumentNotFound(supabase_path, f"HTTP {exc.code}")
        if exc.code in (401, 403):
            return StorageUnavailable(supabase_path, f"HTTP {exc.code}: check OCRMP_STORAGE_TOKEN")
        if exc.code >= 500 or exc.code == 429:
            return StorageUnavailable(supabase_path, f"HTTP {exc.code}")
        return DocumentNotFound(supabase_path, f"HTTP {exc.code}")


def origin(url: str) -> tuple[str, str, int | None]:
    """scheme, host and port: what a redirect must keep for the token to follow it."""
    parts = urllib.parse.urlsplit(url)
    default = {"http": 80, "https": 443}.get(parts.scheme.lower())
    return parts.scheme.lower(), (parts.hostname or "").lower(), parts.port or default


class _SameOriginRedirects(urllib.request.HTTPRedirectHandler):
    """Follows at most MAX_REDIRECTS redirects, all within the first URL's origin, so the
    bearer token is never sent elsewhere and no foreign bytes are taken as the document."""

    def __init__(self, supabase_path: str) -> None:
        self.supabase_path = supabase_path
        self.followed = 0

    def redirect_request(self, req: urllib.request.Request, fp: Any, code: int, msg: str,
                         headers: Any, newurl: str) -> urllib.request.Request | None:
        self.followed += 1
        if origin(newurl) != origin(req.full_url):
            fp.close()
            raise RedirectRefused(self.supabase_path, f"HTTP {code} to "
                                  f"{_origin_text(newurl)}, from {_origin_text(req.full_url)}")
        if self.followed > MAX_REDIRECTS:
            fp.close()
            raise TooManyRedirects(self.supabase_path, f"more than {MAX_REDIRECTS}")
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def _origin_text(url: str) -> str:
    scheme, host, port = origin(url)
    return f"{scheme}://{host}:{port}"


def _body(exc: urllib.error.HTTPError) -> bytes:
    try:
        return exc.read(4096) or b""
    except OSError:
        return b""

