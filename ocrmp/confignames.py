"""Names that look like ocrmp's settings but are none: a misspelt variable is otherwise
silently ignored (`OCRMP_LAESE=60s`, `OCR_PORD=true`). Reported with the closest name
ocrmp knows, never with the value (it may be a secret)."""

from __future__ import annotations

import difflib
import functools
from collections.abc import Iterable, Iterator, Mapping

PREFIXES = ("OCR_", "OCRMP_")
SUFFIX = "_DATABASE_URL"
# Read elsewhere than Settings: the config file's own path, and the atomics' choice at import.
CLOSE = 0.8  # difflib's ratio: one letter swapped or missing in a name of these lengths
READ_ELSEWHERE = frozenset({"OCRMP_CONFIG", "OCRMP_ATOMICS", "OCRMP_PUREPYTHON"})


class Recording(Mapping[str, str]):
    """An empty environment that remembers which names were looked up."""

    def __init__(self) -> None:
        self.read: set[str] = set()

    def __getitem__(self, key: str) -> str:
        self.read.add(key)
        raise KeyError(key)

    def __iter__(self) -> Iterator[str]:
        return iter(())

    def __len__(self) -> int:
        return 0


@functools.cache
def known_names() -> frozenset[str]:
    """Every variable ocrmp reads: those the settings look up, and READ_ELSEWHERE."""
    from ocrmp.config import from_env

    recording = Recording()
    from_env(recording)
    return frozenset(recording.read) | READ_ELSEWHERE


def looks_like_ours(name: str) -> bool:
    return name.startswith(PREFIXES) or name.endswith(SUFFIX)


def unknown(names: Iterable[str]) -> list[tuple[str, str | None]]:
    """(name, the closest known name or None) for each name that looks like a setting of
    ocrmp's and is none. A *_DATABASE_URL of another program, far from any of ours, is
    not ocrmp's business: only a near miss of those is reported."""
    known = known_names()
    found = []
    for name in sorted(set(names)):
        if name in known or not looks_like_ours(name):
            continue
        matches = difflib.get_close_matches(name, known, n=1, cutoff=CLOSE)
        closest = matches[0] if matches else None
        if name.startswith(PREFIXES) or closest is not None:
            found.append((name, closest))
    return found


def describe(name: str, closest: str | None, where: str) -> str:
    guess = f" (did you mean {closest}?)" if closest else ""
    return f"{name} in {where} is not a setting of ocrmp and is ignored{guess}"


def reports(environ: Mapping[str, str], config: Mapping[str, str],
            config_path: str | None) -> list[str]:
    """One line per unknown name, in the environment and in the config file."""
    lines = [describe(name, closest, "the environment") for name, closest in unknown(environ)]
    if config_path is not None:
        lines += [describe(name, closest, config_path) for name, closest in unknown(config)]
    return lines
