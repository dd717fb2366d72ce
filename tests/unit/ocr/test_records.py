"""Index records: numbers, dates, natures and parties (pure)."""

from __future__ import annotations

import pytest

from ocrmp.ocr.headers import column_field, is_header_line, label_field, page_fields
from ocrmp.ocr.records import (
    Field,
    as_printed,
    clean_number,
    iso_date,
    make_record,
    parties,
    regroup_number,
    snap_nature,
    strip_specks,
)


def test_numbers_regrouped_by_thousands() -> None:
    assert regroup_number("1 234567") == "1 234 567"
    assert regroup_number("1234567") == "1 234 567"
    assert regroup_number("Voir 12 34") == "Voir 1 234"
    assert regroup_number("Radiée 1995") == "Radiée 1995"
    assert regroup_number("773-228") == "773-228"


def test_letters_between_digits_of_a_number_are_the_digits_they_stand_for() -> None:
    assert clean_number("3515o91") == "3 515 091"
    assert clean_number("74l9I16") == "7 419 116"
    assert clean_number("T674175") == "T674175"  # a radiation's letter stays


def test_specks_between_digit_groups_are_the_spaces_they_stand_for() -> None:
    assert clean_number("7.:439.116") == "7 439 116"
    assert clean_number("3: 515 091") == "3 515 091"
    assert clean_number("773-228") == "773-228" and clean_number("T374687") == "T374687"


def test_specks_at_the_edges_of_dates_natures_and_numbers_are_dropped() -> None:
    fields = [Field("date"), Field("nature"), Field("numero"), Field("parties")]
    cells = [["“November 6, 1982"], ["[Sale", "|"], ["‘716-870"], ["« Roy » inc."]]
    assert strip_specks(fields, cells) == [["November 6, 1982"], ["Sale"], ["716-870"],
                                           ["« Roy » inc."]]


@pytest.mark.parametrize(("text", "iso"), [
    ("2009-03-16", "2009-03-16"), ("15/3/1975", "1975-03-15"), ("27-12-1977", "1977-12-27"),
    ("25 décembre\n1976", "1976-12-25"), ("11 janvier 1905", "1905-01-11"),
    ("September 20, 1923", "1923-09-20"),
    ("5/3/1975", None),  # 5 March or May 3: not certain
    ("4 avr. 85", None), ("27/12/19.", None), ("1999-02-30", None), ("Radiée", None),
])
def test_dates_become_iso_only_when_certain(text: str, iso: str | None) -> None:
    assert iso_date(text) == iso


def test_natures_snap_to_the_closed_list_when_close_enough() -> None:
    assert snap_nature("Hypothéque") == "Hypothèque"
    assert snap_nature("Servitnde") == "Servitude"
    assert snap_nature("Power of attorney") == "Power of attorney"  # kept as read


def test_parties_one_per_line_or_joined_with_their_roles() -> None:
    assert parties(["Pelletier, Noël", "Grenier, Réjean"], ["donateur", "donataire"], None) == [
        {"name": "Pelletier, Noël", "role": "donateur"},
        {"name": "Grenier, Réjean", "role": "donataire"}]
    assert [p["name"] for p in parties(["Roy, Luc à Côté, Marie et Morin, Jean"], [], None)] \
        == ["Roy, Luc", "Côté, Marie", "Morin, Jean"]
    assert parties(["Caron, Édouard"], [], "Donee, Purchaser, etc.") == [
        {"name": "Caron, Édouard", "role": "Donee, Purchaser, etc."}]


def test_a_record_keeps_what_was_read_beside_what_it_tidied() -> None:
    fields = [Field("date"), Field("nature"), Field("numero"), Field("parties"), Field(None, "4")]
    record = make_record(fields, [["15/3/1975"], ["Hypothéque"], ["1 234567"],
                                  ["Roy, Luc"], ["gigue"]])
    assert record["date"] == "1975-03-15" and record["date_text"] == "15/3/1975"
    assert record["nature"] == "Hypothèque" and record["nature_text"] == "Hypothéque"
    assert record["numero"] == "1 234 567" and record["other"] == {"4": "gigue"}
    assert set(record) >= {"qualite", "remarques", "avis_adresse", "radiations"}
    assert as_printed(record)["date"] == "15/3/1975"
    assert as_printed(record)["parties"] == "Roy, Luc"


@pytest.mark.parametrize(("label", "field"), [
    ("Date", "date"), ("Date de présentation", "date"), ("DATE OF THE REGISTRATION", "date"),
    ("Numéro d'inscription", "numero"), ("N°", "numero"), ("No. OF REGISTRATION", "numero"),
    ("Nature de l'acte", "nature"), ("TITRE DE L'ACTE", "nature"), ("NATURE OF THE DEED", "nature"),
    ("Qualité", "qualite"), ("Nom des parties", "parties"), ("NOMS DES PARTIES", "parties"),
    ("Donor, Vendor, etc.", "parties"), ("Remarques", "remarques"), ("Remarqucs", "remarques"),
    ("REMARQUES ET AVIS D'ADRESSE", "remarques"), ("Avis d'adresse", "avis_adresse"),
    ("Radiations", "radiations"), ("Vente", None), ("", None),
])
def test_labels_name_fields_in_french_and_english(label: str, field: str | None) -> None:
    assert label_field(label) == field


def test_a_column_label_read_with_several_slips_still_names_its_field() -> None:
    assert column_field("", "“D ADIARONS") == "radiations"
    assert column_field("", "E E") is None
    assert not is_header_line(["Partition", "Donation"])  # data is never matched loosely


def test_a_two_level_label_is_named_by_its_lower_part() -> None:
    assert column_field("ENREGISTREMENT", "DATE") == "date"
    assert column_field("ENREGISTREMENT", "N°") == "numero"
    assert column_field("NAMES OF PARTIES", "Donee, Purchaser, etc.") == "parties"


def test_a_header_line_names_two_fields_a_data_line_does_not() -> None:
    assert is_header_line(["Date", "Nature", "Numéro"])
    assert not is_header_line(["2009-03-16", "Vente", "4 979 495"])


def test_page_fields_and_continuation_notes() -> None:
    fields = page_fields(["Registre foncier du Québec", "Circonscription foncière : Gatineau",
                          "Cadastre : Cadastre du Québec", "Lot : 1 985 708",
                          "Rapporté du folio 87"])
    assert fields == {"circonscription": "Gatineau", "cadastre": "Cadastre du Québec",
                      "lot": "1 985 708", "continuation": ["Rapporté du folio 87"]}
