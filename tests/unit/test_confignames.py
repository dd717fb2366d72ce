"""Misspelt settings are reported with the closest name ocrmp knows."""

from __future__ import annotations

from ocrmp.confignames import known_names, reports, unknown


def test_a_misspelt_name_is_reported_with_the_closest_known_one() -> None:
    assert unknown(["OCRMP_LAESE"]) == [("OCRMP_LAESE", "OCRMP_LEASE")]
    assert unknown(["OCR_PORD"]) == [("OCR_PORD", "OCR_PROD")]
    assert unknown(["PORD_DATABASE_URL"]) == [("PORD_DATABASE_URL", "PROD_DATABASE_URL")]


def test_names_ocrmp_reads_are_not_reported() -> None:
    names = ["OCRMP_LEASE", "OCR_PROD", "PROD_DATABASE_URL", "DATABASE_URL", "OCRMP_CONFIG",
             "OCR_WORKER_POOL_SIZE", "OCRMP_ATOMICS"]
    assert set(names) <= known_names()
    assert unknown(names) == []


def test_another_programs_variables_are_left_alone() -> None:
    assert unknown(["PATH", "HOME", "ANALYTICS_WAREHOUSE_DATABASE_URL"]) == []


def test_an_unknown_name_of_ours_far_from_any_is_still_reported() -> None:
    assert unknown(["OCRMP_XYZZY"]) == [("OCRMP_XYZZY", None)]


def test_the_config_file_is_checked_too_and_values_are_never_shown() -> None:
    lines = reports({}, {"OCRMP_LAESE": "s3cret"}, "/etc/ocrmp/ocrmp.env")
    assert len(lines) == 1
    assert "/etc/ocrmp/ocrmp.env" in lines[0] and "OCRMP_LEASE" in lines[0]
    assert "s3cret" not in lines[0]


def test_a_server_that_refuses_us_is_told_from_one_that_is_down() -> None:
    from ocrmp.db import refused

    fatal = 'connection failed: connection to server at "h", port 5432 failed: FATAL:  '
    assert refused(fatal + 'database "queue" does not exist') == 'database "queue" does not exist'
    assert refused(fatal + 'password authentication failed for user "ocrmp"')
    assert refused(fatal + "the database system is starting up") is None
    assert refused(fatal + "sorry, too many clients already") is None
    assert refused('connection to server at "h", port 5432 failed: Connection refused') is None
