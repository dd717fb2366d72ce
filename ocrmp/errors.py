"""The project's own exceptions. A class's docstring is its default message."""

from __future__ import annotations


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


class PermanentJobError(JobError):
    """The document cannot be processed; retrying will not help."""

    permanent = True


class TransientJobError(JobError):
    """The job failed for a reason that may pass; it will be retried."""

    permanent = False
