"""The domain's words, each defined once; every other module imports them from here."""

from __future__ import annotations

from enum import StrEnum


class PageFlag(StrEnum):
    """Why a page's text should be looked at by a person. Stored in `ocr_result` as the value.

    A flagged page still gives its text (the job ends in 5); the flag says it may be wrong.
    """

    LOW_CONFIDENCE = "low_confidence"  # mean word confidence under OCRMP_LOW_CONFIDENCE
    NON_WORDS = "non_words"  # most of the words are no word of the language
    OVERLONG = "overlong"  # more characters than the page's size can hold: noise read as text
    HANDWRITING = "handwriting"  # mostly handwriting, which tesseract does not read
    ORIENTATION_UNCERTAIN = "orientation_uncertain"  # read as it was, not turned
    TABLE_UNREAD = "table_unread"  # an index page whose table could not be read into rows


# The natures of acts an index page can print: a closed list (reference/index-formats.md).
NATURES = (
    "Vente", "Hypothèque", "Quittance", "Mainlevée", "Servitude", "Donation", "Bail",
    "Déclaration de copropriété", "Déclaration de résidence familiale",
    "Préavis d'exercice d'un droit hypothécaire", "Prise en paiement", "Dation en paiement",
    "Jugement en passation de titre", "Avis d'adresse", "Avis cadastral", "Correction",
    "Confirmation", "Ratification", "Renonciation", "Résiliation", "Rétrocession", "Échange",
    "Partage", "Usufruit", "Emphytéose", "Fiducie", "Promesse de vente",
    "Procès-verbal d'abornement", "Certificat de localisation", "Avis de faillite",
    "Expropriation", "Lettres patentes", "Mandat", "Procuration", "Priorité", "Substitution",
    "Sommaire", "État certifié",
)

# The fields of an index row, in the order the modern inscription report prints them.
INDEX_FIELDS = ("date", "numero", "nature", "qualite", "parties", "remarques",
                "avis_adresse", "radiations")
