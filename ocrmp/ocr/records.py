"""An index row's cells made into its record: the fields of the real formats, values tidied.

Pure functions. A value is only ever tidied where the reading leaves no doubt, and what
was read is kept beside it (`date_text`, `nature_text`) whenever the two differ.
"""

from __future__ import annotations

import datetime
import difflib
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ocrmp.vocabulary import INDEX_FIELDS, NATURES

# How close a reading must be to a nature of the closed list to be taken for it.
NATURE_CUTOFF = 0.8
_DIGIT_GROUPS = re.compile(r"(?<!\w)(?:\d+(?: \d+)+|\d{5,})")  # not inside "T374687"
_MONTHS = {
    "janvier": 1, "janv": 1, "février": 2, "fevrier": 2, "févr": 2, "fevr": 2, "mars": 3,
    "avril": 4, "avr": 4, "mai": 5, "juin": 6, "juillet": 7, "juil": 7, "août": 8, "aout": 8,
    "septembre": 9, "sept": 9, "octobre": 10, "oct": 10, "novembre": 11, "nov": 11,
    "décembre": 12, "decembre": 12, "déc": 12, "dec": 12,
    "january": 1, "february": 2, "march": 3, "april": 4, "may": 5, "june": 6, "july": 7,
    "august": 8, "september": 9, "october": 10, "november": 11, "december": 12,
}
_ISO = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_NUMERIC = re.compile(r"^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})$")
_WRITTEN = re.compile(r"^(\d{1,2})(?:er)? ([^\W\d_]+)\.? (\d{4})$")
_WRITTEN_EN = re.compile(r"^([^\W\d_]+)\.? (\d{1,2}),? (\d{4})$")


def plain(text: str) -> str:
    """Lower case without accents: what two readings of one word have in common."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


# Between two digits of a number field, specks read as punctuation are its group spaces.
_SPECKED_SPACE = re.compile(r"(?<=\d)[ .:;,'’`]{1,3}(?=\d)")
NUMBER_FIELDS = ("numero", "radiations", "avis_adresse")


# Between two digits of a number field, the letters tesseract takes digits for.
_LETTER_DIGIT = re.compile(r"(?<=\d)[oOlI](?=\d)")
_AS_DIGIT = {"o": "0", "O": "0", "l": "1", "I": "1"}


def clean_number(text: str) -> str:
    """A registration number as printed: punctuation between digit groups (a speck, a
    comma) read back as the space it is, an "o" or an "l" between digits as the digit it
    stands for, the groups re-spaced in threes."""
    digits = _LETTER_DIGIT.sub(lambda m: _AS_DIGIT[m.group()], text)
    return regroup_number(_SPECKED_SPACE.sub(" ", digits))


# Marks a speck or a rule's stub is read as at a cell's edge; no date, nature or number of
# the registry begins or ends with one.
_EDGE_SPECKS = "‘’“”\"'`[]|{}_~«»"
SPECK_FIELDS = ("date", "nature", *NUMBER_FIELDS)


def strip_specks(fields: Sequence[Field], cells: Sequence[Sequence[str]]) -> list[list[str]]:
    """A row's cells with the specks at the edges of its dates, natures and numbers gone."""
    tidied = []
    for i, cell in enumerate(cells):
        if i < len(fields) and fields[i].key in SPECK_FIELDS:
            cell = [kept for line in cell if (kept := line.strip(_EDGE_SPECKS + " "))]
        tidied.append(list(cell))
    return tidied


def regroup_number(text: str) -> str:
    """Digit groups re-spaced by thousands, as modern reports print registration numbers:
    tesseract often drops or moves the space inside one ("1 234567" for "1 234 567")."""

    def regroup(match: re.Match[str]) -> str:
        digits = match.group().replace(" ", "")
        head = len(digits) % 3 or 3
        return " ".join([digits[:head], *(digits[i:i + 3] for i in range(head, len(digits), 3))])

    return _DIGIT_GROUPS.sub(regroup, text)


def _valid(year: int, month: int, day: int) -> str | None:
    try:
        return datetime.date(year, month, day).isoformat()
    except ValueError:
        return None


def iso_date(text: str) -> str | None:
    """The ISO date a reading certainly means, or None.

    Certain: YYYY-MM-DD; a month written out with a four-digit year; day/month/year with
    four digits when the day is over 12 (nothing can be swapped). Two-digit years and
    small numeric days are left as read.
    """
    value = " ".join(text.replace("\n", " ").split()).strip(" .,")
    if match := _ISO.match(value):
        return _valid(int(match[1]), int(match[2]), int(match[3]))
    if (match := _NUMERIC.match(value)) and int(match[1]) > 12:
        return _valid(int(match[3]), int(match[2]), int(match[1]))
    if match := _WRITTEN.match(value):
        month = _MONTHS.get(plain(match[2]).rstrip("."))
        return _valid(int(match[3]), month, int(match[1])) if month else None
    if match := _WRITTEN_EN.match(value):
        month = _MONTHS.get(plain(match[1]).rstrip("."))
        return _valid(int(match[3]), month, int(match[2])) if month else None
    return None


_PLAIN_NATURES = {plain(n): n for n in NATURES}


def snap_nature(text: str) -> str:
    """The nature of the closed list a reading is close to ("Hypothéque"), or the reading."""
    value = " ".join(text.split())
    close = difflib.get_close_matches(plain(value), list(_PLAIN_NATURES), n=1,
                                      cutoff=NATURE_CUTOFF)
    return _PLAIN_NATURES[close[0]] if close else value


_JOINED_NAMES = re.compile(r" (?:à|et) ")


def parties(lines: Sequence[str], roles: Sequence[str],
            side_role: str | None) -> list[dict[str, str | None]]:
    """One entry per party, with the role beside it (Qualité), or the column's own (the
    English form's "Donor, Vendor, etc." side), or none. Modern reports give each party a
    line; the first layout joins them on one ("Roy, Luc à Côté, Marie et Morin, Jean")."""
    names = [name.strip() for line in lines for name in _JOINED_NAMES.split(line)]
    found: list[dict[str, str | None]] = []
    for i, name in enumerate(n for n in names if n):
        role = roles[i] if i < len(roles) else side_role
        found.append({"name": name, "role": role or None})
    return found


@dataclass(frozen=True)
class Field:
    """What a table column holds: its field (None: no field of the index), its label as
    read, the label of the group it is under ("ENREGISTREMENT" over "DATE"), and for one
    side of the parties (the English form's two columns) that side."""

    key: str | None
    label: str = ""
    group: str = ""
    side: str | None = None

    @property
    def name(self) -> str:
        return f"{self.group} / {self.label}" if self.group else self.label


def make_record(fields: Sequence[Field], cells: Sequence[Sequence[str]]) -> dict[str, Any]:
    """The record of one row from its cells' lines, column by column."""
    lines: dict[str, list[str]] = {}
    for field, cell in zip(fields, cells, strict=False):
        if field.key and field.key != "parties":
            lines.setdefault(field.key, []).extend(cell)
    record: dict[str, Any] = {key: "\n".join(lines.get(key, [])) for key in INDEX_FIELDS}
    roles = lines.get("qualite", [])
    record["parties"] = [party for field, cell in zip(fields, cells, strict=False)
                         if field.key == "parties" for party in parties(cell, roles, field.side)]
    for key in NUMBER_FIELDS:
        record[key] = "\n".join(clean_number(line) for line in record[key].split("\n"))
    _tidy(record, "date", iso_date(record["date"]))
    _tidy(record, "nature", snap_nature(record["nature"]) if record["nature"] else None)
    other = {field.name or f"column {i + 1}": "\n".join(cell)
             for i, (field, cell) in enumerate(zip(fields, cells, strict=False))
             if field.key is None and cell}
    if other:
        record["other"] = other
    return record


def _tidy(record: dict[str, Any], key: str, value: str | None) -> None:
    """Replace a field by its tidied value, keeping the reading when they differ."""
    read = record[key]
    if value is not None and value != read:
        record[f"{key}_text"] = read
        record[key] = value


def as_printed(record: dict[str, Any]) -> dict[str, str]:
    """The record's fields as the page printed them: what was read before it was tidied
    (`date_text`, `nature_text`), the parties' names one per line."""
    printed = {}
    for key in INDEX_FIELDS:
        if key == "parties":
            printed[key] = "\n".join(p["name"] for p in record.get(key, []))
        else:
            printed[key] = record.get(f"{key}_text", record.get(key, ""))
    return printed
