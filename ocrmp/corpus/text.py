"""What the pages say: French registry vocabulary, names, numbers and dates.

Every function takes the page's random generator, so a page's content is a pure function
of its seed. Values are returned as they are printed; `Date` also carries the ISO reading
when the printed form leaves no doubt.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ocrmp.vocabulary import NATURES as CLOSED_NATURES  # noqa: F401 - the closed list

Rng = np.random.Generator

SURNAMES = (
    "Tremblay", "Gagnon", "Roy", "Côté", "Bouchard", "Gauthier", "Morin", "Lavoie",
    "Fortin", "Gagné", "Ouellet", "Pelletier", "Bélanger", "Lévesque", "Bergeron",
    "Leblanc", "Paquette", "Girard", "Simard", "Boucher", "Caron", "Beaulieu", "Cloutier",
    "Dubé", "Poirier", "Fournier", "Lapointe", "Leclerc", "Lefebvre", "Poulin", "Thibault",
    "Nadeau", "Martel", "Bédard", "Grenier", "Lessard", "Bernier", "Michaud", "Hébert",
    "Desjardins", "Couture", "Turcotte", "Lachance", "Gosselin", "Proulx", "Ménard",
    "Thériault", "Brisson", "Francœur",
)
GIVEN_NAMES = (
    "Jean", "Marie", "François", "Hélène", "Josée", "André", "Gérard", "Thérèse", "Benoît",
    "Stéphane", "Françoise", "Céline", "Réjean", "Gaétan", "Noël", "Édouard", "Geneviève",
    "Mélanie", "Jérôme", "Amélie", "Rémi", "Chloé", "Aurélie", "Raphaël", "Joël", "Lucie",
    "Pierre", "Louise", "Jacques", "Nicole",
)
COMPANIES = (
    "Caisse populaire Desjardins de {place}", "Banque Royale du Canada",
    "Banque Nationale du Canada", "Société d'habitation du Québec", "Ville de {place}",
    "Hydro-Québec", "Fiducie Desjardins inc.", "Banque de Montréal", "Les Immeubles {name} inc.",
)
PLACES = (
    "Montréal", "Québec", "Laval", "Sherbrooke", "Trois-Rivières", "Lévis", "Gatineau",
    "Rimouski", "Chicoutimi", "Saint-Hyacinthe", "Drummondville", "Joliette", "Terrebonne",
    "Rivière-du-Loup", "Sept-Îles", "Baie-Comeau", "Saint-Jérôme", "Granby", "Val-d'Or",
)
CADASTRES = (
    "Cadastre du Québec", "Paroisse de Saint-Laurent", "Village de Sainte-Rose",
    "Canton de Hull", "Cité de Montréal", "Paroisse de Saint-Jérôme", "Canton d'Orford",
    "Village de Pointe-Claire",
)
STREETS = (
    "rue Saint-Jean", "rue des Érables", "chemin du Côteau", "boulevard Champlain",
    "rue de l'Église", "avenue du Séminaire", "rue Notre-Dame", "rang Sainte-Thérèse",
    "rue Principale", "chemin de la Rivière",
)
MONTHS = (
    "janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre",
    "octobre", "novembre", "décembre",
)
MONTHS_SHORT = (
    "janv.", "févr.", "mars", "avr.", "mai", "juin", "juil.", "août", "sept.", "oct.", "nov.",
    "déc.",
)
MONTHS_EN = (
    "January", "February", "March", "April", "May", "June", "July", "August", "September",
    "October", "November", "December",
)
DEED_TITLES = (
    "ACTE DE VENTE", "ACTE DE DONATION", "ACTE D'HYPOTHÈQUE", "ACTE DE SERVITUDE",
    "ACTE DE CESSION",
)
# The project's first ledger layout draws from this short list (its pages stay as they were).
NATURES = (
    "Vente", "Hypothèque", "Donation", "Servitude", "Quittance", "Cession", "Bail",
    "Radiation", "Transmission", "Préavis", "Déclaration", "Échange",
)
# The common ones, weighted the way a property's history is: sales and mortgages mostly.
_FREQUENT = ("Vente", "Hypothèque", "Quittance", "Mainlevée", "Servitude", "Donation")
# Misreadings of the kind OCR makes, printed only when a page asks for slips.
NATURE_SLIPS = {
    "Hypothèque": "Hypothéque", "Servitude": "Servitnde", "Quittance": "Quittanee",
    "Mainlevée": "Mainlevéc", "Donation": "Donatiou", "Vente": "Veute",
}
NATURES_EN = {
    "Vente": "Sale", "Hypothèque": "Hypothec", "Quittance": "Discharge",
    "Mainlevée": "Release", "Servitude": "Servitude", "Donation": "Donation", "Bail": "Lease",
    "Échange": "Exchange", "Partage": "Partition", "Procuration": "Power of attorney",
    "Rétrocession": "Retrocession", "Correction": "Correction",
}
# Who the parties of an act are, first side then second side (Qualité column).
ROLES = {
    "Vente": ("vendeur", "acheteur"), "Hypothèque": ("débiteur", "créancier"),
    "Quittance": ("créancier", "débiteur"), "Mainlevée": ("créancier", "débiteur"),
    "Donation": ("donateur", "donataire"), "Bail": ("locateur", "locataire"),
    "Servitude": ("cédant", "cessionnaire"), "Échange": ("coéchangiste", "coéchangiste"),
    "Dation en paiement": ("débiteur", "créancier"),
    "Prise en paiement": ("créancier", "débiteur"),
}
REMARKS = ("", "", "", "Radiée", "Partielle", "Réduite", "Voir {numero}", "Corrigée")
MODERN_REMARKS = (
    "", "", "", "Acte au long", "Voir {numero}", "Radiation partielle",
    "Adresse : {civique}, {rue}, {place}", "Corrigée le {date}",
)
CONTINUATIONS = ("Suite de la page {n}", "Rapporté de la page {n}", "Rapporté du folio {n}")

# Deed paragraphs, in the order a notary writes them; `deed_fields` supplies the fields.
DEED_PARAGRAPHS = (
    "Le {jour} {mois} {annee}, par-devant Maître {notaire}, notaire à {ville}, province "
    "de Québec, a comparu {vendeur}, domicilié au {civique}, {rue}, à {ville2}, ci-après "
    "appelé le vendeur.",
    "Lequel vend à {acheteur}, domiciliée à {ville3}, ici présente et acceptant, ci-après "
    "appelée l'acheteur, l'immeuble dont la désignation suit.",
    "Un immeuble connu et désigné comme étant le lot numéro {lot} du cadastre du Québec, "
    "circonscription foncière de {circonscription}, avec la bâtisse dessus construite "
    "portant le numéro civique {civique}, {rue}, à {ville2}.",
    "Le vendeur déclare que l'immeuble est libre de toute hypothèque, priorité ou charge, "
    "à l'exception des servitudes apparentes, et qu'il a été reçu par lui aux termes "
    "d'un acte publié sous le numéro {numero}.",
    "Cette vente est faite pour le prix de {prix} $, que le vendeur reconnaît avoir reçu "
    "de l'acheteur, dont quittance totale et finale. Le droit de mutation est établi sur "
    "une base d'imposition de {prix} $.",
    "L'acheteur reconnaît avoir examiné l'immeuble et avoir fait son propre contrôle des "
    "titres au dépôt du registre foncier; il prend possession de l'immeuble à compter de "
    "ce jour et paiera les taxes foncières à compter de la date des présentes.",
    "Le vendeur déclare être résident canadien au sens de la Loi de l'impôt sur le revenu, "
    "n'être pas en état de faillite et que la façade de la bâtisse est conforme aux "
    "règlements de la municipalité de {ville2}.",
    "Les frais et honoraires du présent acte sont à la charge de l'acheteur, ainsi que le "
    "coût de sa publication au bureau de la publicité des droits de {circonscription}.",
    "Dont acte fait et passé à {ville}, sous le numéro {minute} des minutes du notaire "
    "soussigné. Lecture faite, les parties signent en présence du notaire, qui reçoit "
    "leur consentement et leur remet copie conforme.",
)


def pick(rng: Rng, items: Sequence[str]) -> str:
    return items[int(rng.integers(len(items)))]


def person(rng: Rng) -> str:
    """Given name first, as a deed writes it."""
    return f"{pick(rng, GIVEN_NAMES)} {pick(rng, SURNAMES)}"


def indexed_name(rng: Rng) -> str:
    """Surname first, as an index lists a party; now and then a company."""
    if rng.random() < 0.12:
        return pick(rng, COMPANIES).format(place=pick(rng, PLACES), name=pick(rng, SURNAMES))
    return f"{pick(rng, SURNAMES)}, {pick(rng, GIVEN_NAMES)}"


def grouped(number: int) -> str:
    """Digits in groups of three from the right, separated by spaces: 1 234 567."""
    return f"{number:,}".replace(",", " ")


def registry_number(rng: Rng) -> str:
    """A 7-digit number grouped by thousands with spaces, as the registry prints them."""
    return grouped(int(rng.integers(1_000_000, 9_999_999)))


def old_registry_number(rng: Rng) -> str:
    """Five or six digits, as older forms print them: plain, grouped or hyphenated."""
    number = int(rng.integers(10_000, 999_999))
    style = rng.random()
    if style < 0.5:
        return str(number)
    if style < 0.8:
        return grouped(number)
    text = str(number)
    return f"{text[:-3]}-{text[-3:]}"


def radiation_number(rng: Rng, modern: bool) -> str:
    """A radiation's reference: sometimes T and digits, otherwise a registration number."""
    if rng.random() < 0.35:
        return f"T{int(rng.integers(1000, 999_999))}"
    return registry_number(rng) if modern else old_registry_number(rng)


def price(rng: Rng) -> str:
    return grouped(int(rng.integers(40, 900)) * 1000)


def nature(rng: Rng) -> str:
    """A nature of the closed list, the frequent ones more often."""
    return pick(rng, _FREQUENT) if rng.random() < 0.6 else pick(rng, CLOSED_NATURES)


def deed_fields(rng: Rng) -> dict[str, str]:
    return {
        "jour": str(int(rng.integers(1, 29))),
        "mois": pick(rng, MONTHS),
        "annee": str(int(rng.integers(1950, 2024))),
        "notaire": person(rng),
        "vendeur": person(rng),
        "acheteur": person(rng),
        "ville": pick(rng, PLACES),
        "ville2": pick(rng, PLACES),
        "ville3": pick(rng, PLACES),
        "circonscription": pick(rng, PLACES),
        "rue": pick(rng, STREETS),
        "civique": str(int(rng.integers(1, 9999))),
        "lot": registry_number(rng),
        "numero": registry_number(rng),
        "prix": price(rng),
        "minute": grouped(int(rng.integers(100, 40000))),
    }


def continuation(rng: Rng) -> str:
    return pick(rng, CONTINUATIONS).format(n=int(rng.integers(1, 240)))


# --------------------------------------------------------------------------- dates


@dataclass(frozen=True)
class Date:
    """A date as printed, and its ISO form when the printed text is unambiguous."""

    text: str
    iso: str | None


def _ymd(rng: Rng, first: int, last: int) -> tuple[int, int, int]:
    return int(rng.integers(first, last + 1)), int(rng.integers(1, 13)), int(rng.integers(1, 29))


def modern_date(rng: Rng, first: int = 1985, last: int = 2023) -> Date:
    year, month, day = _ymd(rng, first, last)
    text = f"{year}-{month:02d}-{day:02d}"
    return Date(text, text)


def old_date(rng: Rng, first: int = 1900, last: int = 1995, english: bool = False) -> Date:
    """Day, month, year the ways older forms write them; ISO only where nothing is guessed.

    A numeric date is certain only when its day is over 12 (no month/day swap) and its
    year has four digits; a month written out is always certain with a full year.
    """
    year, month, day = _ymd(rng, first, last)
    iso = f"{year}-{month:02d}-{day:02d}"
    style = int(rng.integers(5))
    short = f"{year % 100:02d}"
    if style == 0:
        return Date(f"{day:02d}-{month:02d}-{year}", iso if day > 12 else None)
    if style == 1:
        return Date(f"{day}/{month}/{short}", None)
    if style == 2:
        return Date(f"{day}/{month}/{year}", iso if day > 12 else None)
    if english:
        return Date(f"{MONTHS_EN[month - 1]} {day}, {year}" if style == 3
                    else f"{day} {MONTHS_EN[month - 1][:3]}. {short}", iso if style == 3 else None)
    if style == 3:
        return Date(f"{day} {MONTHS[month - 1]} {year}", iso)
    return Date(f"{day} {MONTHS_SHORT[month - 1]} {short}", None)
