from __future__ import annotations

import pickle

import pytest

from ocrmp.errors import (
    ConfigError,
    JobError,
    PermanentJobError,
    TransientJobError,
    error_kind,
    job_error_text,
)
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


def test_each_job_error_has_its_own_stable_kind() -> None:
    assert (errors.CorruptDocument.kind, errors.PathEscapesRoot.kind) == (
        "corrupt_document", "path_escapes_root")
    named = [cls for cls in vars(errors).values()
             if isinstance(cls, type) and issubclass(cls, JobError)]
    assert len({cls.kind for cls in named}) == len(named)


def test_ocr_error_starts_with_the_kind_and_the_kind_is_read_back() -> None:
    text = job_error_text(errors.CorruptDocument("acte/corrupt.pdf", "x"))
    assert text.startswith("corrupt_document: acte/corrupt.pdf: is damaged")
    assert error_kind(text) == "corrupt_document"
    # The path names no kind: a document called corrupt.pdf is not a corrupt document.
    assert error_kind(str(errors.DocumentNotFound("acte/corrupt.pdf"))) is None
    assert error_kind("lease expired: w1 stopped renewing it") is None
    assert error_kind(None) is None
