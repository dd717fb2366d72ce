"""Named exit codes of the `ocrmp` command and of worker processes."""

from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0
    FAILURE = 1
    USAGE = 2  # click's own code for a bad flag or argument
    CONFIG = 3  # invalid configuration or settings
    DATABASE = 4  # database unreachable or refused
    ALREADY_RUNNING = 5  # another master holds this pool's pidfile
    NOT_RUNNING = 6  # no master runs for this pool
    BREAKER = 7  # every worker slot tripped its crash breaker
    ENGINE = 8  # the OCR engine (tesseract, language data) is not usable
    INPUT = 9  # a document given on the command line cannot be read or OCR'd
    WORKER_BOOT_ERROR = 10  # a worker could not start (returned by worker processes)
    CHECK_FAILED = 11  # `ocrmp db check` found a problem
