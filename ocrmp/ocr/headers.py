"""What the printed words of an index page name: the columns of its table, and the page.

Column labels are matched word by word, tolerating OCR slips, in French and in English;
a two-level label ("ENREGISTREMENT / DATE") is named by its lower part first. The lines
above the table carry the page's identity: lot, cadastre, registration division, and the
notes that chain one page to the next.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence

from ocrmp.ocr.records import plain

# Label words (lower case, no accents) and the field they name. Several words of a label
# may match; the first field in FIELD_PRIORITY wins ("DATE OF THE REGISTRATION" is a
# date, "No. OF REGISTRATION" a number).
LABEL_WORDS = {
    "date": "date", "presentation": "date", "dated": "date",
    "numero": "numero", "no": "numero", "n": "numero", "num": "numero", "inscription": "numero",
    "registration": "numero", "number": "numero",
    "nature": "nature", "acte": "nature", "titre": "nature", "deed": "nature",
    "instrument": "nature",
    "qualite": "qualite", "role": "qualite", "capacity": "qualite",
    "parties": "parties", "partie": "parties", "noms": "parties", "nom": "parties",
    "names": "parties", "donor": "parties", "vendor": "parties", "donee": "parties",
    "purchaser": "parties", "grantor": "parties", "grantee": "parties",
    "remarques": "remarques", "remarque": "remarques", "remarks": "remarques",
    "observations": "remarques", "mentions": "remarques",
    "adresse": "avis_adresse", "address": "avis_adresse",
    "radiations": "radiations", "radiation": "radiations", "discharges": "radiations",
}
FIELD_PRIORITY = ("date", "remarques", "radiations", "qualite", "avis_adresse", "nature",
                  "parties", "numero")
# A header line names at least this many different fields (or sits against one that does).
HEADER_FIELDS = 2
_CLOSE = 0.8  # difflib ratio for a label word read with a slip

# Each at the start of its line; the lot also after a comma ("…de Laval, lot 1 234 567").
_PAGE_FIELDS = (
    ("lot", re.compile(r"(?:^|,\s*)lots?\b\s*(?:n[o°º]\.?\s*)?[:.]?\s*(.+)", re.IGNORECASE)),
    ("cadastre", re.compile(r"^\s*cadastre\b\s*[:.]?\s*(.+)", re.IGNORECASE)),
    ("circonscription", re.compile(
        r"^\s*(?:circonscription(?: fonci[èe]re)?|division d'enregistrement|registration "
        r"division)\b\s*(?:de\s+|of\s+|:\s*)?(.+)", re.IGNORECASE)),
    ("canton", re.compile(r"^\s*canton\b\s*[:.]?\s*(.+)", re.IGNORECASE)),
)
_CONTINUATION = re.compile(r"\b(rapport[ée]e? d[eu]|suite d[eu]|report[ée]e? d[eu]|"
                           r"continued from|brought forward|carried forward)\b", re.IGNORECASE)


def _words(label: str) -> list[str]:
    return [w for w in re.split(r"[^\w]+", plain(label)) if w]


def _word_field(word: str) -> str | None:
    if word in LABEL_WORDS:
        return LABEL_WORDS[word]
    if len(word) < 4:  # short words ("du", "de") match too much when read loosely
        return None
    close = difflib.get_close_matches(word, list(LABEL_WORDS), n=1, cutoff=_CLOSE)
    return LABEL_WORDS[close[0]] if close else None


def label_fields(label: str) -> set[str]:
    """Every field a label's words name."""
    return {f for f in map(_word_field, _words(label)) if f is not None}


def label_field(label: str) -> str | None:
    """The field a column's label names, or None."""
    found = label_fields(label)
    return next((f for f in FIELD_PRIORITY if f in found), None)


def column_field(upper: str, lower: str) -> str | None:
    """A two-level label: the lower part names the field, the upper one if it cannot;
    failing both, a long word of the label read with more slips ("ADIARONS")."""
    return label_field(lower) or label_field(upper) or loose_field(lower or upper)


# A column's label that names nothing is known to be a label: a long word of it may be
# read further off ("FANRQUES" for "REMARQUES"). Data lines are never matched this loosely.
_LOOSE = 0.7
_LOOSE_LENGTH = 7


def loose_field(label: str) -> str | None:
    found = set()
    for word in _words(label):
        if len(word) >= _LOOSE_LENGTH:
            close = difflib.get_close_matches(word, list(LABEL_WORDS), n=1, cutoff=_LOOSE)
            found |= {LABEL_WORDS[close[0]]} if close else set()
    return next((f for f in FIELD_PRIORITY if f in found), None)


def is_header_line(texts: Sequence[str]) -> bool:
    """Whether one printed line names columns: words of at least two different fields."""
    found: set[str] = set()
    for text in texts:
        found |= label_fields(text)
    return len(found) >= HEADER_FIELDS


def page_fields(lines: Sequence[str]) -> dict[str, object]:
    """The page's identity from the lines above its table: lot, cadastre, division, canton,
    and the continuation notes ("Rapporté du folio 87", "Suite de la page 3")."""
    fields: dict[str, object] = {}
    notes: list[str] = []
    for line in lines:
        text = " ".join(line.split())
        if _CONTINUATION.search(text):
            notes.append(text)
            continue
        for name, pattern in _PAGE_FIELDS:
            match = pattern.search(text)
            if match and name not in fields:
                value = re.split(r"\s{2,}|,\s*lot\b", match[1], flags=re.IGNORECASE)[0]
                fields[name] = value.strip(" :.,;")
    if notes:
        fields["continuation"] = notes
    return fields
