"""The domain's words, each defined once; every other module imports them from here."""

from __future__ import annotations

from enum import IntEnum, StrEnum


class Environment(StrEnum):
    """A queue's database, each its own DSN; listed in service order: prod first."""

    PROD = "prod"
    STAGING = "staging"
    DEV = "dev"


class Kind(StrEnum):
    """A document's kind (`extraction_queue.document_source`)."""

    INDEX = "index"
    ACTE = "acte"
    PLAN_CADASTRAUX = "plan_cadastraux"  # queued by the downloader, never read (skipped)


# The kinds ocrmp reads, which are also the modes a worker can be in.
MODES = (Kind.INDEX, Kind.ACTE)


class Status(IntEnum):
    """`extraction_status` ids (migration 0001): the downloader's 1 and 2, ocrmp's 3 to 6.

    `label` is the metric and JSON spelling, `words` the one printed for people, and
    `reference` the name the reference table gives the statuses ocrmp writes.
    """

    WAITING_DOWNLOAD = 1
    DOWNLOADING = 2
    READY = 3
    ERROR = 4
    DONE = 5
    RUNNING = 6

    @property
    def label(self) -> str:
        return self.name.lower()

    @property
    def words(self) -> str:
        return _STATUS_WORDS.get(self, self.label)

    @property
    def reference(self) -> str:
        return _STATUS_REFERENCE.get(self, "")

    @classmethod
    def of(cls, status_id: int) -> Status | None:
        """The status of an id, None for one that no version of ocrmp knows."""
        return cls(status_id) if status_id in cls._value2member_map_ else None

    @classmethod
    def label_of(cls, status_id: int) -> str:
        known = cls.of(status_id)
        return known.label if known else f"status_{status_id}"


_STATUS_WORDS = {Status.WAITING_DOWNLOAD: "waiting for download",
                 Status.RUNNING: "OCR running"}
_STATUS_REFERENCE = {Status.READY: "Complété", Status.ERROR: "Erreur",
                     Status.DONE: "Extraction complétée", Status.RUNNING: "OCR en traitement"}
# The statuses ocrmp writes: the downloader and ocrmp must agree on them.
OCR_STATUSES = (Status.READY, Status.ERROR, Status.DONE, Status.RUNNING)


class StopReason(StrEnum):
    """Why a worker ended: the metrics' label, and what the master decided before it did."""

    CRASH = "crash"  # exited on its own with an error, or killed by a signal we did not send
    OOM_SUSPECTED = "oom_suspected"  # SIGKILL that no one here sent: the kernel's OOM killer
    TIMEOUT = "timeout"  # no heartbeat for the job timeout
    MEMORY_SOFT = "memory_soft"  # over the soft limit: recycled after its job
    MEMORY_HARD = "memory_hard"  # over the hard limit: killed now
    MAX_JOBS = "max_jobs"  # its job budget is spent
    RELOAD = "reload"  # HUP: replaced one by one
    SHRINK = "shrink"  # TTOU or less host memory
    STOP = "stop"  # the pool stops, or the worker left when told


# The master's decisions an operator asked for (^C, TERM, `stop`, `restart`, `reload`,
# `scale`, systemd's stop): a job its worker held then is given back with its attempt,
# never counted against the document.
OPERATOR_STOPS = frozenset({StopReason.STOP, StopReason.RELOAD, StopReason.SHRINK})


class AttemptOutcome(StrEnum):
    """How an attempt at a job ended (`ocrmp_job_attempts.outcome`, NULL while it runs).
    The statements of ocrmp/sql/queries.sql that end attempts write these words."""

    DONE = "done"
    FAILED = "failed"  # the job ended in 4
    RETRY = "retry"  # failed, back to 3 with the attempt counted
    RELEASED = "released"  # back to 3, the attempt not counted: an operator's stop, a rescue
    CANCELLED = "cancelled"  # `ocrmp cancel`


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
    TEXT_UNREAD = "text_unread"  # lines of text on the page that no word of the result covers


# The error kind of a document an operator cancelled (the web console's *cancel*): it goes to
# 4 with an `ocr_error` that starts `cancelled: `. Every other error kind is a JobError's
# (`ocrmp.errors.JOB_ERROR_KINDS`, which holds this one too).
CANCELLED = "cancelled"

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
