"""The project's own exceptions. A class's docstring is its default message."""

from __future__ import annotations

import re
from typing import ClassVar

from ocrmp.vocabulary import CANCELLED

JOB_ERROR_KINDS: set[str] = set()  # the kind of every JobError class: see JobError.kind


class OcrmpError(Exception):
    """ocrmp failed."""

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or (self.__doc__ or "").strip())


class ConfigError(OcrmpError):
    """Invalid configuration."""


class DatabaseError(OcrmpError):
    """The database refused the operation."""


class DatabaseUnavailable(DatabaseError):
    """The database cannot be reached."""


class DatabaseRefused(DatabaseError):
    """The database server answered and refused us: the database does not exist, or the
    user or password is wrong. Waiting will not fix it: a configuration error."""


class SchemaError(DatabaseError):
    """The database schema is missing or not what ocrmp expects; run `ocrmp db migrate`."""


class StaleAttempt(OcrmpError):
    """This attempt no longer owns the job; the write was refused."""


class RedisUnavailable(OcrmpError):
    """Redis cannot be reached."""


class PoolError(OcrmpError):
    """The pool cannot run."""


class JobError(OcrmpError):
    """The job failed."""

    permanent: bool = False
    # A stable word for scripts and tests: the class name in snake case (CorruptDocument:
    # corrupt_document). A failed job's ocr_error starts with it (`job_error_text`).
    kind: ClassVar[str] = "job_error"

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        if "kind" not in cls.__dict__:
            cls.kind = re.sub(r"(?<!^)(?=[A-Z])", "_", cls.__name__).lower()
        JOB_ERROR_KINDS.add(cls.kind)


JOB_ERROR_KINDS.add(JobError.kind)
JOB_ERROR_KINDS.add(CANCELLED)  # no exception: an operator's doing


def job_error_text(error: JobError) -> str:
    """A failed job's `ocr_error`: `kind: message`, e.g. `corrupt_document: acte/x.pdf: is
    damaged ...` (the message quotes the path; the kind never does)."""
    return f"{error.kind}: {error}"


def error_kind(ocr_error: str | None) -> str | None:
    """The kind a job's `ocr_error` starts with; None when it names none (a lease expiry,
    a worker's death)."""
    kind = (ocr_error or "").split(": ", 1)[0]
    return kind if kind in JOB_ERROR_KINDS else None


class PermanentJobError(JobError):
    """The document cannot be processed; retrying will not help."""

    permanent = True


class TransientJobError(JobError):
    """The job failed for a reason that may pass; it will be retried."""

    permanent = False


class JobTakenAway(OcrmpError):
    """The attempt no longer holds its job (cancelled, rescued or requeued): stop reading it."""
