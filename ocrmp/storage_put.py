"""Putting local files where the workers' storage finds them, for `ocrmp enqueue`.

A job's `supabase_path` is `bucket/filename` under the storage root. A copied file's name
carries a short hash of its content: two scans both called `scan.pdf` never overwrite each
other, and enqueueing the same file twice stores it once.

Copies are private to the pool's user: files 0600 in directories 0700, never a parent's
mode changed. Run as root, what is created takes the owner and group of the nearest
directory that exists already (the pool's data directory), so the pool's user reads it and
nobody else does. An operator who shares the storage with a group makes its directory
set-group-id (2750): copies are then 0640 and directories 2750, of that group.
"""

from __future__ import annotations

import glob
import hashlib
import os
import re
import stat
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from ocrmp.errors import OcrmpError

SUFFIXES = (".pdf", ".png", ".jpg", ".jpeg", ".tif", ".tiff")
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_GLOB_CHARS = re.compile(r"[*?\[]")
_CHUNK = 1 << 20
FILE_MODE, DIRECTORY_MODE = 0o600, 0o700


class InputError(OcrmpError):
    """A file given on the command line cannot be enqueued."""


def expand(arguments: Iterable[str]) -> list[Path]:
    """Files, directories (searched recursively for PDFs and images) and globs, as files.

    Everything is checked before anything is stored, so one bad argument enqueues nothing.
    """
    found: dict[Path, Path] = {}  # ordered, one entry per real file, named as the user did
    for argument in arguments:
        for path in _expand_one(argument):
            _refuse_undecodable(path)
            found.setdefault(path.resolve(), path.absolute())
    return list(found.values())


def _refuse_undecodable(path: Path) -> None:
    """A name that is not UTF-8 cannot be a document number or a path in the queue: said
    before anything is stored."""
    try:
        os.fsencode(path).decode("utf-8")
    except UnicodeDecodeError:
        shown = os.fsencode(path).decode("utf-8", "backslashreplace")
        raise InputError(f"{shown}: the file name is not UTF-8; rename the file") from None


def _expand_one(argument: str) -> list[Path]:
    path = Path(argument)
    if path.is_dir():
        files = sorted(child for child in path.rglob("*")
                       if child.is_file() and child.suffix.lower() in SUFFIXES)
        if not files:
            raise InputError(f"{argument}: no PDF or image ({', '.join(SUFFIXES)}) under "
                             "this directory")
        return files
    if path.is_file():
        if path.suffix.lower() not in SUFFIXES:
            raise InputError(f"{argument}: not a PDF or image file (expected "
                             f"{', '.join(SUFFIXES)})")
        return [path]
    if _GLOB_CHARS.search(argument):
        matches = [Path(match) for match in sorted(glob.glob(argument, recursive=True))]
        files = [match for match in matches
                 if match.is_file() and match.suffix.lower() in SUFFIXES]
        if not files:
            raise InputError(f"{argument}: no PDF or image file matches this pattern")
        return files
    raise InputError(f"{argument}: no such file or directory")


def sha256_of(path: Path) -> str:
    """The sha256 of a file's content, in hex."""
    digest = hashlib.sha256()
    with path.open("rb") as source:
        while chunk := source.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def content_hash(path: Path) -> str:
    return sha256_of(path)[:10]


def stored_name(path: Path, digest: str) -> str:
    """`scan-1a2b3c4d5e.pdf`: safe in a path and in a URL, unique by content."""
    stem = _UNSAFE.sub("_", path.stem).strip("._") or "document"
    return f"{stem}-{digest}{path.suffix.lower()}"


def copy_into(root: Path, bucket: str, path: Path) -> str:
    """Copy a file under root/bucket/; return its supabase_path."""
    relative = f"{bucket}/{stored_name(path, content_hash(path))}"
    target = root / relative
    if target.exists():
        return relative  # same name, same content: already stored
    place = make_private_directories(target.parent)
    # Written under a temporary name, then renamed: a worker never reads half a file.
    # mkstemp creates it 0600, owned by whoever runs this.
    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=".incoming-")
    try:
        with os.fdopen(handle, "wb") as out, path.open("rb") as source:
            if place.owner is not None:
                os.fchown(out.fileno(), *place.owner)
            os.fchmod(out.fileno(), place.file_mode)
            while chunk := source.read(_CHUNK):
                out.write(chunk)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return relative


@dataclass(frozen=True)
class Place:
    """How what is stored in a directory is made: its owner (as root: that of the nearest
    directory that existed; None: whoever runs this) and the modes."""

    owner: tuple[int, int] | None
    file_mode: int
    directory_mode: int


def place_of(existing: os.stat_result) -> Place:
    """Private (0600 files, 0700 directories), unless the operator shares the storage
    with a group by making a directory of it set-group-id: then 0640 and 2750, that
    group's (what a set-group-id directory gives what is made in it)."""
    owner = (existing.st_uid, existing.st_gid) if os.geteuid() == 0 else None
    if existing.st_mode & stat.S_ISGID:
        return Place(owner, 0o640, 0o2750)
    return Place(owner, FILE_MODE, DIRECTORY_MODE)


def make_private_directories(directory: Path) -> Place:
    """Create `directory` and its missing parents as `place_of` the nearest existing one
    says (existing ones are left as they are); how to make a file in it."""
    missing = []
    existing = directory
    while not existing.exists():
        missing.append(existing)
        existing = existing.parent
    place = place_of(existing.stat())
    for level in reversed(missing):
        try:
            level.mkdir(mode=0o700)  # nobody else's before its mode is set
        except FileExistsError:
            continue  # made meanwhile by another enqueue
        fd = os.open(level, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC)
        try:
            if place.owner is not None:
                os.fchown(fd, *place.owner)
            os.fchmod(fd, place.directory_mode)  # made here: its mode is ours to set
        finally:
            os.close(fd)
    return place


def reference_in(root: Path, path: Path) -> str:
    """The supabase_path of a file already under root; refuse one outside it."""
    resolved, base = path.resolve(), root.resolve()
    if not resolved.is_relative_to(base):
        raise InputError(f"{path}: is outside the storage root {base}; --reference needs "
                         "files under it (or use --copy)")
    return resolved.relative_to(base).as_posix()
