from __future__ import annotations

import pickle

import pytest

from ocrmp.errors import ConfigError, PermanentJobError, TransientJobError
from ocrmp.ocr import errors


@pytest.mark.parametrize("error", [
    errors.NotAPdf, errors.UnsupportedFormat, errors.CorruptDocument,
    errors.EncryptedDocument, errors.EmptyDocument, errors.ImageTooLarge,
    errors.TooManyPages, errors.DocumentNotFound, errors.PathEscapesRoot,
    errors.DocumentTooLarge, errors.UnsupportedKind, errors.PageTooComplex,
])
def test_document_errors_are_permanent_and_name_the_document(error: type) -> None:
    exc = error("bucket/scan.pdf", "detail")
    assert isinstance(exc, PermanentJobError) and exc.permanent
    assert str(exc).startswith("bucket/scan.pdf: ")
    assert str(exc).endswith("(detail)") and "\n" not in str(exc)


@pytest.mark.parametrize("error", [errors.StorageUnavailable, errors.EngineTimeout,
                                   errors.EngineCrashed, errors.RenderTimeout,
                                   errors.DocumentTimeout])
def test_passing_troubles_are_transient(error: type) -> None:
    exc = error("scan.pdf page 2")
    assert isinstance(exc, TransientJobError) and not exc.permanent
    assert str(exc).startswith("scan.pdf page 2: ")


def test_missing_engine_is_a_startup_error_that_says_what_to_install() -> None:
    exc = errors.EngineUnavailable(detail="no fra.traineddata in /x")
    assert isinstance(exc, ConfigError)
    assert "apt-get install tesseract-ocr tesseract-ocr-fra" in str(exc)
    assert str(exc).endswith("(no fra.traineddata in /x)")


def test_errors_survive_pickling_between_processes() -> None:
    exc = errors.EncryptedDocument("a/b.pdf", "x")
    back = pickle.loads(pickle.dumps(exc))
    assert type(back) is errors.EncryptedDocument and str(back) == str(exc)
