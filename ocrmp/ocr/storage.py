"""Storage: a job's `supabase_path` (`bucket/filename`) to the document's bytes.

Two backends behind one small interface: a local root directory (a mounted volume) and
HTTP(S) with a URL template and an optional bearer token (Supabase Storage's object
endpoint, or any web server).
"""

from __future__ import annotations

import errno
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

    def open(self, supabase_path: str) -> OpenedDocument:
        """The document's file, opened once and checked on what was opened: every later
        read goes through this descriptor, never the name, so a file swapped after the
        open is never read. No symlink is followed, at any depth: each directory is
        opened below the one before it (O_NOFOLLOW), and a name that is a link is
        refused, so a link cannot lead out of the root, nor round in a loop."""
        parts = _relative_parts(supabase_path)
        fd = _open_below(str(self.root), parts, supabase_path)
        try:
            info = os.fstat(fd)
            if stat.S_ISDIR(info.st_mode):
                raise DocumentNotFound(supabase_path)
            refuse_irregular(info, supabase_path)
            if info.st_size > self.max_bytes:
                raise DocumentTooLarge(supabase_path, f"{info.st_size} bytes")
        except BaseException:
            os.close(fd)
            raise
        return OpenedDocument(fd)

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
        with self.open(supabase_path) as document:
            data = document.read(self.max_bytes + 1)
        if len(data) > self.max_bytes:
            raise DocumentTooLarge(supabase_path, f"more than {self.max_bytes} bytes")
        return data


# Directories are walked without following links; the file is opened without blocking on
# a FIFO (checked by fstat right after).
_DIRECTORY = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_FILE = os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW | os.O_CLOEXEC


def _open_below(root: str, parts: list[str], supabase_path: str) -> int:
    """A descriptor of root/parts..., each part opened in the one before, none a link."""
    try:
        here = os.open(root, _DIRECTORY)
    except OSError as exc:
        raise StorageUnavailable(supabase_path, f"storage root: {exc.strerror}") from None
    try:
        for index, part in enumerate(parts):
            last = index == len(parts) - 1
            try:
                opened = os.open(part, _FILE if last else _DIRECTORY, dir_fd=here)
            except OSError as exc:
                raise _open_error(exc, part, here, supabase_path) from None
            os.close(here)
            here = opened
        return here
    except BaseException:
        os.close(here)
        raise


def _open_error(exc: OSError, part: str, parent: int, supabase_path: str) -> Exception:
    """What an open below the root that failed says of the document."""
    try:
        info: os.stat_result | None = os.lstat(part, dir_fd=parent)
    except OSError:
        info = None
    if exc.errno == errno.ELOOP or (info is not None and stat.S_ISLNK(info.st_mode)):
        return PathEscapesRoot(supabase_path)  # a link, whatever it points at
    if info is not None and exc.errno == errno.ENXIO:  # a socket
        return NotARegularFile(supabase_path, "a socket")
    if isinstance(exc, (FileNotFoundError, NotADirectoryError)):
        return DocumentNotFound(supabase_path)
    if isinstance(exc, PermissionError):
        return StorageUnavailable(supabase_path, f"permission denied: {exc.strerror}")
    return StorageUnavailable(supabase_path, exc.strerror or str(exc))


class OpenedDocument:
    """A document opened by `LocalStorage.open`: read it through `path`, which names the
    open file itself (/proc/self/fd/N, inherited by forked children), never its name in
    the storage. Close it when done (a context manager)."""

    def __init__(self, fd: int) -> None:
        self.fd = fd

    @property
    def path(self) -> Path:
        return Path(f"/proc/self/fd/{self.fd}")

    def read(self, limit: int) -> bytes:
        chunks: list[bytes] = []
        offset = 0
        while offset < limit:
            chunk = os.pread(self.fd, min(_CHUNK, limit - offset), offset)
            if not chunk:
                break
            chunks.append(chunk)
            offset += len(chunk)
        return b"".join(chunks)

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1

    def __enter__(self) -> OpenedDocument:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


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

