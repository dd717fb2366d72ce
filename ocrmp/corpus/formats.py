"""The ledger formats of `reference/index-formats.md`: their columns, page headers, rows.

A format says what is printed where; `ledger.py` draws it. Row keys are the record keys
of the index reader: date, numero, nature, qualite, parties, remarques, avis_adresse,
radiations (and, on the handwritten register only, registre and volume).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ocrmp.corpus import text as words
from ocrmp.corpus.fonts import PRINT_FACES, TYPEWRITER_FACES

Rng = np.random.Generator


@dataclass(frozen=True)
class Column:
    """One printed column: its record key, label, share of the table width, group label."""

    key: str
    label: str
    share: float
    group: str = ""  # the upper label of a two-level header ("ENREGISTREMENT")
    role: str | None = None  # the role every party of this column has (one side each)
    side: int = 0  # with a role: which side of the act the column lists, first or second

    @property
    def name(self) -> str:
        return f"{self.group} / {self.label}" if self.group else self.label


@dataclass(frozen=True)
class Format:
    """A ledger layout and the habits of the office that printed it."""

    name: str
    columns: tuple[Column, ...]
    points: float  # size of the entries
    faces: tuple[str, ...]  # faces its entries were printed or typed in; the first by default
    label_face: str | None = None  # printed form: labels in this face, entries typed
    modern: bool = False  # computer report: ISO dates, numbers in groups of three
    english: bool = False
    handwritten: bool = False
    landscape: bool = False
    label_points: float = 8.0
    preprinted: bool = False  # a printed form: rules and labels down the whole sheet


_FORM = "ENREGISTREMENT"
_EN_SIDES = ("Donor, Vendor, etc.", "Donee, Purchaser, etc.")
FORMATS: dict[str, Format] = {
    fmt.name: fmt
    for fmt in (
        # The project's first layout: one line per cell, text fitted to the column.
        Format("simple", (
            Column("date", "Date", 0.13), Column("nature", "Nature de l'acte", 0.22),
            Column("parties", "Parties", 0.39), Column("numero", "Numéro", 0.13),
            Column("remarques", "Remarques", 0.13),
        ), 10, ("serif", *PRINT_FACES[1:], *TYPEWRITER_FACES), modern=True),
        # The printed form of the 1980s-1990s, filled in on a typewriter.
        Format("formulaire", (
            Column("parties", "NOMS DES PARTIES", 0.27),
            Column("nature", "TITRE DE L'ACTE", 0.16),
            Column("date", "DATE", 0.13, _FORM), Column("numero", "N°", 0.11, _FORM),
            Column("remarques", "REMARQUES ET AVIS D'ADRESSE", 0.21),
            Column("radiations", "RADIATIONS", 0.12),
        ), 10, TYPEWRITER_FACES, label_face="sans"),
        # The English form, over a double page: two columns of parties, one per side.
        Format("english", (
            Column("date", "DATE OF THE REGISTRATION", 0.13),
            Column("parties", _EN_SIDES[0], 0.22, "NAMES OF PARTIES", _EN_SIDES[0]),
            Column("parties", _EN_SIDES[1], 0.22, "NAMES OF PARTIES", _EN_SIDES[1], 1),
            Column("nature", "NATURE OF THE DEED", 0.14),
            Column("numero", "No. OF REGISTRATION", 0.12),
            Column("remarques", "REMARKS", 0.17),
        ), 10, TYPEWRITER_FACES, label_face="times", english=True, landscape=True),
        # The computer report of inscriptions: one party per line, its role beside it.
        Format("inscription", (
            Column("date", "Date de présentation", 0.10),
            Column("numero", "Numéro d'inscription", 0.11),
            Column("nature", "Nature de l'acte", 0.14), Column("qualite", "Qualité", 0.11),
            Column("parties", "Nom des parties", 0.21), Column("remarques", "Remarques", 0.12),
            Column("avis_adresse", "Avis d'adresse", 0.10),
            Column("radiations", "Radiations", 0.11),
        ), 8, ("sans", "dejavu-sans", "courier", "mono"), modern=True, label_points=7.5),
        # The computer report of radiations.
        Format("radiation", (
            Column("numero", "Numéro d'inscription", 0.2), Column("remarques", "Remarques", 0.4),
            Column("avis_adresse", "Avis d'adresse", 0.18),
            Column("radiations", "Radiations", 0.22),
        ), 9, ("courier", "sans", "dejavu-sans", "mono"), modern=True, label_points=8.5),
        # The old register, ruled and printed, every entry written by hand.
        Format("manuscrit", (
            Column("parties", "NOMS DES PARTIES", 0.28),
            Column("nature", "Nature de l'Acte", 0.14),
            Column("date", "Date", 0.10, _FORM), Column("registre", "Reg.", 0.06, _FORM),
            Column("volume", "Vol.", 0.06, _FORM), Column("numero", "N°", 0.08, _FORM),
            Column("radiations", "Radiation", 0.11), Column("remarques", "REMARQUES", 0.17),
        ), 10, ("serif",), label_face="times", handwritten=True),
        # A register typed over a double page, headed on two levels on both sides: the
        # parties by side, the inscription's date, number and nature.
        Format("double-entete", (
            Column("parties", "Vendeurs, cédants", 0.19, "NOMS DES PARTIES", "cédant"),
            Column("parties", "Acquéreurs, cessionnaires", 0.19, "NOMS DES PARTIES",
                   "cessionnaire", 1),
            Column("date", "Date", 0.11, "INSCRIPTION"), Column("numero", "N°", 0.10,
                                                                  "INSCRIPTION"),
            Column("nature", "Nature", 0.13, "INSCRIPTION"),
            Column("remarques", "REMARQUES", 0.16), Column("radiations", "RADIATIONS", 0.12),
        ), 9, TYPEWRITER_FACES, label_face="sans", landscape=True),
        # An older printed form: its labels, and rules at a fixed pitch down to the foot of
        # the sheet, printed before anything was entered; an entry spans whole pitches,
        # typed later and never quite on the lines (or written in: `written=True`).
        Format("formulaire-ancien", (
            Column("date", "Date", 0.14, "ENREGISTREMENT"),
            Column("numero", "Numéro", 0.10, "ENREGISTREMENT"),
            Column("nature", "Nature de l'acte", 0.15),
            Column("parties", "Noms des parties", 0.29),
            Column("remarques", "Remarques", 0.18), Column("radiations", "Radiations", 0.14),
        ), 10, TYPEWRITER_FACES, label_face="schoolbook", preprinted=True),
    )
}


def get_format(name: str) -> Format:
    if name not in FORMATS:
        raise ValueError(f"unknown ledger format {name!r}; expected one of {', '.join(FORMATS)}")
    return FORMATS[name]


# --------------------------------------------------------------------------- page header


@dataclass(frozen=True)
class HeaderLine:
    """One line above the table: a printed label and the value typed after it."""

    label: str
    value: str = ""
    fields: dict[str, str] = field(default_factory=dict)  # the header fields the value holds
    title: bool = False  # centred, bold

    @property
    def text(self) -> str:
        return f"{self.label} {self.value}".strip()


def _old_lot(rng: Rng) -> str:
    number = int(rng.integers(1, 2500))
    style = rng.random()
    if style < 0.5:
        return str(number)
    if style < 0.8:
        return f"{number}-{int(rng.integers(1, 60))}"
    return f"P-{number}"


_FIELD_LABELS = {  # circonscription, cadastre, lot
    "english": ("Registration Division of", "Cadastre:", "Lot No."),
    "french": ("Circonscription foncière :", "Cadastre :", "Lot :"),
}
_EN_CONTINUATIONS = {"Suite de la page": "Continued from page",
                     "Rapporté de la page": "Brought forward from page",
                     "Rapporté du folio": "Brought forward from folio"}


def _titles(fmt: Format) -> list[str]:
    if fmt.english:
        return ["INDEX TO IMMOVABLES"]
    if fmt.modern:
        suffix = " : radiations" if fmt.name == "radiation" else ""
        return ["Registre foncier du Québec", f"Index des immeubles{suffix}"]
    return ["INDEX DES IMMEUBLES"]


def page_header(fmt: Format, rng: Rng, continued: bool) -> list[HeaderLine]:
    """The lines above the table: titles, then circonscription, cadastre, lot, continuation."""
    values = {
        "circonscription": words.pick(rng, words.PLACES),
        "cadastre": "Cadastre du Québec" if fmt.modern else words.pick(rng, words.CADASTRES),
        "lot": words.registry_number(rng) if fmt.modern else _old_lot(rng),
    }
    note = words.continuation(rng)
    labels = _FIELD_LABELS["english" if fmt.english else "french"]
    lines = [HeaderLine(title, title=True) for title in _titles(fmt)]
    lines += [HeaderLine(label, value, {key: value})
              for label, (key, value) in zip(labels, values.items(), strict=True)]
    if continued:
        for french, english in _EN_CONTINUATIONS.items():
            note = note.replace(french, english) if fmt.english else note
        lines.append(HeaderLine("", note, {"continuation": note}))
    return lines


# --------------------------------------------------------------------------- rows


Sides = tuple[tuple[str, ...], tuple[str, ...]]


@dataclass(frozen=True)
class Entry:
    """One inscription as the registry knows it, before it is laid out in cells."""

    date: words.Date
    numero: str
    nature: str  # as printed
    canonical: str  # the closed-list entry it stands for
    sides: Sides  # names, first side then second
    roles: tuple[str, str]
    remarques: str
    avis_adresse: str
    radiations: tuple[str, ...]


def _sides(rng: Rng, nature: str) -> tuple[Sides, tuple[str, str]]:
    roles = words.ROLES.get(nature)
    first = tuple(words.indexed_name(rng) for _ in range(1 + int(rng.random() < 0.3)))
    if roles is None:  # a declaration, a notice: one party who asks for it
        return (first[:1], ()), ("requérant", "")
    second = tuple(words.indexed_name(rng) for _ in range(1 + int(rng.random() < 0.35)))
    return (first, second), roles


def _printed_nature(rng: Rng, fmt: Format, nature: str, slips: bool) -> str:
    if fmt.english:
        return words.NATURES_EN[nature]
    if slips and nature in words.NATURE_SLIPS and rng.random() < 0.25:
        return words.NATURE_SLIPS[nature]
    return nature


def entry(rng: Rng, fmt: Format, slips: bool = False) -> Entry:
    """A plausible inscription in the habits of `fmt` (dates, numbers, remarks)."""
    nature = words.nature(rng)
    if fmt.english and nature not in words.NATURES_EN:
        nature = words.pick(rng, tuple(words.NATURES_EN))
    date = words.modern_date(rng) if fmt.modern else words.old_date(rng, english=fmt.english)
    number = words.registry_number if fmt.modern else words.old_registry_number
    sides, roles = _sides(rng, nature)
    remarks = words.MODERN_REMARKS if fmt.modern else words.REMARKS
    remark = words.pick(rng, remarks).format(
        numero=number(rng), civique=int(rng.integers(1, 9999)),
        rue=words.pick(rng, words.STREETS), place=words.pick(rng, words.PLACES),
        date=words.modern_date(rng).text)
    if fmt.english:
        remark = {"Radiée": "Discharged", "Partielle": "Partial", "Réduite": "Reduced",
                  "Corrigée": "Corrected"}.get(remark, remark.replace("Voir", "See"))
    avis = number(rng) if rng.random() < 0.3 else ""
    radiations = tuple(words.radiation_number(rng, fmt.modern)
                       for _ in range(int(rng.choice([0, 0, 1, 1, 2]))))
    return Entry(date, number(rng), _printed_nature(rng, fmt, nature, slips), nature, sides,
                 roles, remark, avis, radiations)


def cell_lines(entry: Entry, column: Column) -> list[str]:
    """What a column prints for an entry, one logical line each (before wrapping)."""
    parties = [*entry.sides[0], *entry.sides[1]]
    if column.key == "parties":
        if column.role is not None:  # one side per column
            return list(entry.sides[column.side])
        return parties
    if column.key == "qualite":
        return [entry.roles[0]] * len(entry.sides[0]) + [entry.roles[1]] * len(entry.sides[1])
    values = {
        "date": [entry.date.text], "numero": [entry.numero], "nature": [entry.nature],
        "remarques": [entry.remarques] if entry.remarques else [],
        "avis_adresse": [entry.avis_adresse] if entry.avis_adresse else [],
        "radiations": list(entry.radiations),
    }
    return values.get(column.key, [])


def simple_row(rng: Rng) -> dict[str, str]:
    """A row of the first layout, drawn exactly as that layout always drew it."""
    numero = words.registry_number(rng)
    parties = f"{words.pick(rng, words.SURNAMES)}, {words.pick(rng, words.GIVEN_NAMES)} à " + (
        f"{words.pick(rng, words.SURNAMES)}, {words.pick(rng, words.GIVEN_NAMES)}"
    )
    if rng.random() < 0.3:  # several buyers, which is what overflows the cell
        parties += f" et {words.person(rng)}"
    date = f"{int(rng.integers(1950, 2024))}-{int(rng.integers(1, 13)):02d}-" + (
        f"{int(rng.integers(1, 29)):02d}"
    )
    return {
        "date": date,
        "nature": words.pick(rng, words.NATURES),
        "parties": parties,
        "numero": numero,
        "remarques": words.pick(rng, words.REMARKS).format(numero=words.registry_number(rng)),
    }


def split_parties(printed: str) -> list[str]:
    """The names in a parties cell of the first layout ("A, B à C, D et E F")."""
    names = []
    for side in printed.split(" à "):
        names += [name.strip() for name in side.split(" et ") if name.strip()]
    return names
