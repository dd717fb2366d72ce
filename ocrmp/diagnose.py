"""`ocrmp db check`: is this database fit for the pool, and why does a ready job wait?

The original system's worst failure was 19 jobs at status 3 that every check called
"eligible" while the claim matched none of them. Here the reasons a ready job is passed
over are read in the claim's own terms (kind served, attempts left, backoff over), so a
job the claim skips is never reported as fine. The interpretation is pure functions of
what the store reads; only `diagnose` does I/O.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from ocrmp.db import describe_dsn
from ocrmp.schema import pending
from ocrmp.store import JobStore
from ocrmp.vocabulary import OCR_STATUSES

OK, NOTE, PROBLEM = "ok", "note", "problem"

# Every column ocrmp reads or writes.
REQUIRED_COLUMNS = (
    "id", "document_number", "document_source", "status_id", "supabase_path",
    "file_content", "created_at", "ocr_worker_id", "ocr_started_at", "ocr_completed_at",
    "ocr_attempts", "ocr_max_attempts", "ocr_error", "ocr_last_error_at",
    "ocr_lease_expires_at", "ocr_next_attempt_at", "ocr_result", "ocr_page_count",
)


# A running job with no lease at all: the same grace the pools' rescue gives it.
UNLEASED_AFTER_S = 1800.0
DOWNLOADING_AFTER_S = 3600.0
TRIGGER_DISABLED = "D"


@dataclass(frozen=True)
class Finding:
    level: str  # ok, note or problem
    code: str
    message: str
    count: int = 0
    examples: tuple[str, ...] = ()
    hint: str = ""


@dataclass
class Report:
    env: str
    database: str
    findings: list[Finding] = field(default_factory=list)

    @property
    def problems(self) -> list[Finding]:
        return [finding for finding in self.findings if finding.level == PROBLEM]

    @property
    def healthy(self) -> bool:
        return not self.problems

    def to_json(self) -> dict[str, Any]:
        return {"env": self.env, "database": self.database, "healthy": self.healthy,
                "findings": [asdict(finding) for finding in self.findings]}


def diagnose(store: JobStore, *, examples: int = 5) -> Report:
    """Every check, for one environment's database."""
    report = Report(store.env, describe_dsn(store.dsn))
    facts = store.schema_facts()
    report.findings += schema_findings(facts, pending(store.dsn))
    if facts["has_status_table"]:
        report.findings += status_findings(store.status_names())
    if not missing_columns(facts):
        report.findings += ready_findings(store.ready_reasons(examples), store.env)
        report.findings += stalled_findings(
            store.stalled_jobs(unleased_after_s=UNLEASED_AFTER_S,
                               downloading_after_s=DOWNLOADING_AFTER_S, examples=examples),
            store.env)
    return report


# -- schema ----------------------------------------------------------------------------

def missing_columns(facts: Mapping[str, Any]) -> list[str]:
    present = set(facts["columns"] or ())
    return [name for name in REQUIRED_COLUMNS if name not in present]


def schema_findings(facts: Mapping[str, Any], pending_names: Sequence[str]) -> list[Finding]:
    if not facts["has_queue"]:
        return [Finding(PROBLEM, "no_table", "table extraction_queue does not exist",
                        hint="run `ocrmp db migrate`"), _pending_finding(pending_names)]
    return [_columns_finding(missing_columns(facts)), _trigger_finding(facts["trigger_state"]),
            _index_finding(facts["claim_index_ok"]), _pending_finding(pending_names)]


def _pending_finding(names: Sequence[str]) -> Finding:
    if names:
        return Finding(PROBLEM, "pending_migrations",
                       f"migrations not applied: {', '.join(names)}", count=len(names),
                       hint="run `ocrmp db migrate`")
    return Finding(OK, "pending_migrations", "every migration is applied")


def _index_finding(valid: bool | None) -> Finding:
    if valid:
        return Finding(OK, "claim_index", "claim index extraction_queue_ocr_ready_order")
    state = "is invalid" if valid is False else "is missing"
    return Finding(PROBLEM, "claim_index", f"partial claim index extraction_queue_ocr_ready_order "
                   f"{state}: every claim scans the whole table", hint="run `ocrmp db migrate`")


def _columns_finding(missing: list[str]) -> Finding:
    if missing:
        return Finding(PROBLEM, "columns",
                       f"extraction_queue lacks columns ocrmp needs: {', '.join(missing)}",
                       count=len(missing), hint="run `ocrmp db migrate`")
    return Finding(OK, "columns",
                   f"table extraction_queue has the {len(REQUIRED_COLUMNS)} columns ocrmp uses")


def _trigger_finding(state: str | None) -> Finding:
    if state is None:
        return Finding(PROBLEM, "trigger", "trigger ocrmp_notify_ready is missing: idle pools "
                       "only see new jobs at their next poll", hint="run `ocrmp db migrate`")
    if state == TRIGGER_DISABLED:
        return Finding(PROBLEM, "trigger", "trigger ocrmp_notify_ready is disabled: idle pools "
                       "only see new jobs at their next poll",
                       hint="ALTER TABLE extraction_queue ENABLE TRIGGER ocrmp_notify_ready")
    return Finding(OK, "trigger", "trigger ocrmp_notify_ready is enabled")


def _folded(name: str) -> str:
    """Case and accents aside: 'Complete' and 'Complété' are the same status."""
    decomposed = unicodedata.normalize("NFKD", name.strip().casefold())
    return "".join(char for char in decomposed if not unicodedata.combining(char))


def status_findings(names: Mapping[int, str]) -> list[Finding]:
    """The original wrote wrong status ids; a table that disagrees with ours is a problem."""
    wrong = []
    for status in OCR_STATUSES:
        expected = status.reference
        actual = names.get(status)
        if actual is None:
            wrong.append(f"{int(status)} is absent (ocrmp uses it for {expected!r})")
        elif _folded(actual) != _folded(expected):
            wrong.append(f"{int(status)} is {actual!r} here, ocrmp uses it for {expected!r}")
    if wrong:
        return [Finding(PROBLEM, "status_ids",
                        "extraction_status disagrees with the status ids ocrmp writes: "
                        + "; ".join(wrong), count=len(wrong),
                        hint="the downloader and ocrmp must agree on ids 3-6 before any "
                             "pool runs")]
    meanings = ", ".join(f"{int(status)} {status.words}" for status in OCR_STATUSES)
    return [Finding(OK, "status_ids", f"status ids match extraction_status ({meanings})")]


# -- jobs ------------------------------------------------------------------------------

def ready_findings(rows: Iterable[Mapping[str, Any]], env: str) -> list[Finding]:
    """One finding per reason ready jobs are passed over, plus how many are claimable."""
    findings = []
    for row in rows:
        count, examples = int(row["n"]), tuple(row["examples"] or ())
        level, message, hint = _ready_words(row, count, env)
        findings.append(Finding(level, row["reason"], message, count, examples, hint))
    if not any(finding.code == "claimable" for finding in findings):
        findings.append(Finding(OK, "claimable", "no ready job is claimable now"))
    return findings


def _ready_words(row: Mapping[str, Any], count: int, env: str) -> tuple[str, str, str]:
    """(level, message, hint) for one reason of ready_reasons."""
    jobs = f"{count} ready job{'s' if count != 1 else ''}"
    requeue = f"ocrmp requeue --exhausted --env {env}"
    reason = row["reason"]
    if reason == "claimable":
        return OK, f"{jobs} claimable now", ""
    if reason == "exhausted":
        return (PROBLEM, f"{jobs} used all their attempts (ocr_attempts >= ocr_max_attempts): "
                "no pool will claim them", requeue)
    if reason == "null_attempts":
        return (PROBLEM, f"{jobs} have no ocr_attempts or ocr_max_attempts (NULL): the claim "
                "cannot compare them, so no pool will claim them", requeue)
    if reason == "backoff":
        return (NOTE, f"{jobs} wait on retry backoff until {_when(row['first_due'])}"
                f"{_until_last(row)}", "they are claimed by themselves when due")
    if reason == "unknown_kind":
        kinds = ", ".join(repr(kind) for kind in row["kinds"] or ())
        return (PROBLEM, f"{jobs} have an unknown document_source ({kinds}): only index and "
                "acte are OCR'd, plan_cadastraux skipped", "fix document_source upstream")
    if reason == "plan":
        return (NOTE, f"{jobs} are plan_cadastraux: survey plans are not OCR'd by design; a "
                "running pool moves them to 5", "OCRMP_SKIP_PLANS=true (the default)")
    if reason == "missing_path":
        return (PROBLEM, f"{jobs} have no supabase_path: a pool would claim them and fail them "
                "at once (no file to read)", "the downloader must store the file and its path")
    return PROBLEM, f"{jobs} are passed over ({reason})", ""


def _when(moment: datetime | None) -> str:
    return moment.isoformat(sep=" ", timespec="seconds") if moment else "an unknown time"


def _until_last(row: Mapping[str, Any]) -> str:
    if row["last_due"] is None or row["last_due"] == row["first_due"]:
        return ""
    return f" (the last until {_when(row['last_due'])})"


def stalled_findings(rows: Iterable[Mapping[str, Any]], env: str) -> list[Finding]:
    """Informational: any live pool rescues an expired lease by itself."""
    findings = []
    for row in rows:
        count, examples = int(row["n"]), tuple(row["examples"] or ())
        jobs = f"{count} job{'s' if count != 1 else ''}"
        reason = row["reason"]
        if reason == "downloading":
            message = (f"{jobs} in download (2) for over {DOWNLOADING_AFTER_S / 3600:.0f}h: "
                       "the downloader, not ocrmp, moves these")
            hint = ""
        else:
            why = ("lease expired" if reason == "lease_expired"
                   else f"no lease, started over {UNLEASED_AFTER_S / 60:.0f} min ago")
            message = f"{jobs} stuck in OCR running (6), {why}: no pool is renewing them"
            hint = (f"a running pool rescues them; or `ocrmp requeue --stuck --env {env}`")
        findings.append(Finding(NOTE, reason, message, count, examples, hint))
    return findings


# -- words -----------------------------------------------------------------------------

_MARK = {OK: "ok     ", NOTE: "note   ", PROBLEM: "PROBLEM"}


def render(report: Report) -> str:
    """Plain words, one line per finding (examples and hint indented under it)."""
    problems = len(report.problems)
    verdict = "healthy" if not problems else f"{problems} problem{'s' if problems > 1 else ''}"
    lines = [f"{report.env} ({report.database}): {verdict}"]
    for finding in report.findings:
        lines.append(f"  {_MARK[finding.level]} {finding.message}")
        if finding.examples:
            lines.append(f"          e.g. {', '.join(finding.examples)}")
        if finding.hint and finding.level != OK:
            lines.append(f"          → {finding.hint}")
    return "\n".join(lines)
