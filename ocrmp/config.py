"""One Settings object from environment variables, config file and flags, validated once.

The variable names of the deployment guide are kept (OCR_WORKER_POOL_SIZE, OCR_DEV, ...);
ocrmp's own settings are OCRMP_*. A bad value fails at start with one line naming it. The OCR
settings (`Settings.ocr`) are read here from the same mapping as the rest; their type lives
with the OCR code, which knows nothing else of the configuration.
"""

from __future__ import annotations

import os
import re
import socket
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, TypeVar

from ocrmp.errors import ConfigError
from ocrmp.ocr.settings import OcrSettings
from ocrmp.outputs import STORED
from ocrmp.vocabulary import Environment

EMBEDDED = "embedded"  # the DSN marker for the embedded default server
# Workers per host: the slot table holds this many, so TTIN can grow a pool up to it.
MAX_POOL_SIZE = 64

T = TypeVar("T")

_SIZE_UNITS = {"": 1, "B": 1, "K": 1 << 10, "KB": 1 << 10, "M": 1 << 20, "MB": 1 << 20,
               "G": 1 << 30, "GB": 1 << 30, "T": 1 << 40, "TB": 1 << 40}
_DURATION_UNITS = {"": 1.0, "ms": 0.001, "s": 1.0, "m": 60.0, "min": 60.0, "h": 3600.0}


def parse_bool(text: str) -> bool:
    lowered = text.strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off", ""):
        return False
    raise ValueError(f"expected true or false, got {text!r}")


def parse_bytes(text: str) -> int:
    """'2G', '512M', '1.5GB' or a plain number of bytes (PM2's max_memory_restart style)."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([KMGT]?B?)\s*", text.upper())
    if not match:
        raise ValueError(f"expected a size like 2G or 512M, got {text!r}")
    return int(float(match.group(1)) * _SIZE_UNITS[match.group(2)])


def parse_duration(text: str) -> float:
    """'30s', '5m', '250ms', '1h' or plain seconds."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*(ms|s|min|m|h)?\s*", text.lower())
    if not match:
        raise ValueError(f"expected a duration like 30s, 5m or 250ms, got {text!r}")
    return float(match.group(1)) * _DURATION_UNITS[match.group(2) or ""]


def parse_fraction(text: str) -> float:
    """'20%' or '0.2'."""
    stripped = text.strip()
    value = float(stripped[:-1]) / 100 if stripped.endswith("%") else float(stripped)
    if not 0 <= value < 1:
        raise ValueError(f"expected a share between 0% and 100%, got {text!r}")
    return value


def non_negative_int(text: str) -> int:
    value = int(text)
    if value < 0:
        raise ValueError(f"expected a whole number ≥ 0, got {text!r}")
    return value


def positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise ValueError(f"expected a whole number ≥ 1, got {text!r}")
    return value


def positive_float(text: str) -> float:
    value = float(text)
    if not value > 0:
        raise ValueError(f"expected a number greater than 0, got {text!r}")
    return value


def parse_percent(text: str) -> float:
    value = float(text)
    if not 0 <= value <= 100:
        raise ValueError(f"expected a number between 0 and 100, got {text!r}")
    return value


def parse_lang(text: str) -> str:
    if not all(part.replace("_", "").isalnum() for part in text.strip().split("+")):
        raise ValueError("expected tesseract language codes such as fra or fra+eng")
    return text.strip()


def parse_url_template(text: str) -> str:
    if not text.startswith(("http://", "https://")):
        raise ValueError("must start with http:// or https://")
    if not any(key in text for key in ("{bucket}", "{path}", "{supabase_path}")):
        raise ValueError("must contain {supabase_path}, or {bucket} and {path}")
    return text


def parse_outputs(text: str) -> tuple[str, ...]:
    """'pdf,alto': the formats written beside each done document, each once, in order."""
    names = [part.strip().lower() for part in text.split(",") if part.strip()]
    unknown = [name for name in names if name not in STORED]
    if unknown:
        raise ValueError(f"unknown format {unknown[0]!r}: expected some of {', '.join(STORED)}")
    return tuple(dict.fromkeys(names))


def _word(text: str) -> str:
    return text.strip().lower()


def _read(environ: Mapping[str, str], name: str, parse: Callable[[str], T], default: T) -> T:
    raw = environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return parse(raw)
    except ValueError as error:
        raise ConfigError(f"{name}={raw!r} is invalid: {error}") from None


def default_pool_name() -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "-", socket.gethostname()) or "ocrmp"


def default_run_dir() -> Path:
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    return Path(runtime) / "ocrmp" if runtime else Path("/tmp") / f"ocrmp-{os.getuid()}"


def default_data_dir() -> Path:
    if os.geteuid() == 0:  # root's home is private; the embedded server runs as another user
        return Path("/var/lib/ocrmp")
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "ocrmp"


@dataclass(frozen=True)
class Source:
    """Where settings come from, kept so HUP can read them again."""

    config_file: Path | None = None
    overrides: tuple[tuple[str, Any], ...] = ()


@dataclass(frozen=True)
class Settings:
    pool_name: str = field(default_factory=default_pool_name)
    size: int = field(default_factory=lambda: os.cpu_count() or 1)
    min_index: int = 1
    min_acte: int = 1
    rebalance_interval_s: float = 5.0
    environments: dict[str, str] = field(default_factory=lambda: {Environment.DEV: EMBEDDED},
                                         repr=False)
    redis_url: str | None = field(default=None, repr=False)
    ocr: OcrSettings = field(default_factory=OcrSettings)
    # What a worker runs for a job instead of the OCR pipeline, as `module:attr[:argument]`
    # (test doubles, no-op benchmarks); None: the pipeline.
    runner: str | None = None
    outputs: tuple[str, ...] = ()  # formats written beside each done document in storage
    job_timeout_s: float = 600.0
    graceful_timeout_s: float = 30.0
    kill_grace_s: float = 5.0
    max_memory: int = 2 << 30
    hard_memory: int | None = None
    max_jobs_per_worker: int = 0
    max_jobs_jitter: int = 0
    memory_reserve: float = 0.20
    lease_s: float = 60.0
    rescue_interval_s: float = 15.0
    poll_interval_s: float = 5.0
    retry_base_s: float = 30.0
    retry_max_s: float = 3600.0
    breaker_failures: int = 5
    breaker_window_s: float = 60.0
    skip_plans: bool = True
    rate_limits: tuple[str, ...] = ()
    run_dir: Path = field(default_factory=default_run_dir)
    data_dir: Path = field(default_factory=default_data_dir)
    log_format: str = "human"
    log_file: Path | None = None
    metrics_port: int | None = None
    metrics_host: str = "127.0.0.1"
    until_idle: bool = False
    # Where these settings were read from, so HUP reads them again from the same places.
    source: Source = field(default_factory=Source, repr=False, compare=False)

    @property
    def hard_memory_limit(self) -> int:
        """The kill-now limit: given, or half again above the soft limit."""
        return self.hard_memory if self.hard_memory is not None else int(self.max_memory * 1.5)

    def with_overrides(self, **overrides: Any) -> Settings:
        """These settings with flags applied on top (None means: flag not given). A flag
        named as an OCR setting (`engine`, `lang`) applies to `ocr`."""
        changes = {key: value for key, value in overrides.items() if value is not None}
        ocr = {key: changes.pop(key) for key in list(changes) if key in _OCR_FIELDS}
        if ocr:
            changes["ocr"] = replace(self.ocr, **ocr)
        return validate(replace(self, **changes))

    @property
    def storage_root(self) -> Path | None:
        """Where documents are read from on this host: the configured root, else (with no
        storage URL either) the data directory's, where `ocrmp enqueue` copies files."""
        if self.ocr.storage_root:
            return Path(self.ocr.storage_root)
        return None if self.ocr.storage_url_template else self.data_dir / "storage"


_OCR_FIELDS = frozenset(f.name for f in fields(OcrSettings))


def _environments(environ: Mapping[str, str]) -> dict[str, str]:
    """Enabled environments and their DSNs. Nothing configured at all: an embedded dev."""
    flags = {env: _read(environ, f"OCR_{env.upper()}", parse_bool, False)
             for env in Environment}
    dsns = {env: environ.get(f"{env.upper()}_DATABASE_URL", "").strip()
            for env in Environment}
    dsns[Environment.DEV] = dsns[Environment.DEV] or environ.get("DATABASE_URL", "").strip()
    flag_given = any(f"OCR_{env.upper()}" in environ for env in Environment)
    if not flag_given:
        flags = {env: bool(dsns[env]) for env in Environment}
        if not any(flags.values()):
            return {Environment.DEV: EMBEDDED}
    enabled: dict[str, str] = {}
    for env in Environment:
        if not flags[env]:
            continue
        if not dsns[env]:
            if env == Environment.DEV and not any(dsns.values()):
                enabled[env] = EMBEDDED
                continue
            raise ConfigError(f"OCR_{env.upper()}=true but {env.upper()}_DATABASE_URL is not set")
        enabled[env] = dsns[env]
    if not enabled:
        raise ConfigError("no environment enabled: set OCR_DEV, OCR_STAGING or OCR_PROD to true")
    return enabled


def ocr_from_env(env: Mapping[str, str], **flags: Any) -> OcrSettings:
    """The OCR settings alone (`ocrmp ocr` needs no database), flags over the variables."""
    if any(value is not None for value in flags.values()):
        return replace(ocr_from_env(env), **{k: v for k, v in flags.items() if v is not None})
    base = OcrSettings()
    megabytes = _read(env, "OCRMP_MAX_DOCUMENT_MB", positive_float, 200.0)
    return OcrSettings(
        engine=_read(env, "OCRMP_ENGINE", _word, base.engine),
        lang=_read(env, "OCRMP_LANG", parse_lang, base.lang),
        tessdata=env.get("OCRMP_TESSDATA") or None,
        dpi=_read(env, "OCRMP_DPI", positive_int, base.dpi),
        max_megapixels=_read(env, "OCRMP_MAX_MEGAPIXELS", positive_float, base.max_megapixels),
        max_pages=_read(env, "OCRMP_MAX_PAGES", positive_int, base.max_pages),
        page_timeout_s=_read(env, "OCRMP_PAGE_TIMEOUT", positive_float, base.page_timeout_s),
        document_timeout_s=_read(env, "OCRMP_DOCUMENT_TIMEOUT", positive_float,
                                 base.document_timeout_s),
        storage_root=env.get("OCRMP_STORAGE_ROOT") or None,
        storage_url_template=_read(env, "OCRMP_STORAGE_URL", parse_url_template, None),
        storage_token=env.get("OCRMP_STORAGE_TOKEN") or None,
        max_document_bytes=int(megabytes * 1024 * 1024),
        low_confidence=_read(env, "OCRMP_LOW_CONFIDENCE", parse_percent, base.low_confidence),
        text_layer=_read(env, "OCRMP_TEXT_LAYER", _word, base.text_layer),
    )


def from_env(environ: Mapping[str, str] | None = None) -> Settings:
    env = os.environ if environ is None else environ
    base = Settings()
    settings = Settings(
        pool_name=_read(env, "OCRMP_POOL_NAME", str, base.pool_name),
        size=_read(env, "OCR_WORKER_POOL_SIZE", positive_int, base.size),
        min_index=_read(env, "OCR_MIN_INDEX_WORKERS", non_negative_int, base.min_index),
        min_acte=_read(env, "OCR_MIN_ACTE_WORKERS", non_negative_int, base.min_acte),
        rebalance_interval_s=_read(env, "OCR_REBALANCE_INTERVAL_MS",
                                   lambda t: positive_int(t) / 1000, base.rebalance_interval_s),
        environments=_environments(env),
        redis_url=env.get("REDIS_URL") or None,
        ocr=ocr_from_env(env),
        runner=env.get("OCRMP_RUNNER") or None,
        outputs=_read(env, "OCRMP_OUTPUTS", parse_outputs, base.outputs),
        job_timeout_s=_read(env, "OCRMP_JOB_TIMEOUT", parse_duration, base.job_timeout_s),
        graceful_timeout_s=_read(env, "OCRMP_GRACEFUL_TIMEOUT", parse_duration,
                                 base.graceful_timeout_s),
        max_memory=_read(env, "OCRMP_MAX_MEMORY", parse_bytes, base.max_memory),
        hard_memory=_read(env, "OCRMP_HARD_MEMORY", parse_bytes, None),
        max_jobs_per_worker=_read(env, "OCRMP_MAX_JOBS_PER_WORKER", non_negative_int, 0),
        max_jobs_jitter=_read(env, "OCRMP_MAX_JOBS_JITTER", non_negative_int, 0),
        memory_reserve=_read(env, "OCRMP_MEMORY_RESERVE", parse_fraction, base.memory_reserve),
        lease_s=_read(env, "OCRMP_LEASE", parse_duration, base.lease_s),
        rescue_interval_s=_read(env, "OCRMP_RESCUE_INTERVAL", parse_duration,
                                base.rescue_interval_s),
        poll_interval_s=_read(env, "OCRMP_POLL_INTERVAL", parse_duration, base.poll_interval_s),
        retry_base_s=_read(env, "OCRMP_RETRY_BASE", parse_duration, base.retry_base_s),
        skip_plans=_read(env, "OCRMP_SKIP_PLANS", parse_bool, base.skip_plans),
        rate_limits=tuple(part for part in env.get("OCRMP_RATE_LIMIT", "").split(",") if part),
        run_dir=_read(env, "OCRMP_RUN_DIR", Path, base.run_dir),
        data_dir=_read(env, "OCRMP_DATA_DIR", Path, base.data_dir),
        log_format=_read(env, "OCRMP_LOG_FORMAT", str, base.log_format),
        metrics_port=_read(env, "OCRMP_METRICS_PORT", non_negative_int, None),
        metrics_host=_read(env, "OCRMP_METRICS_HOST", str, base.metrics_host),
    )
    return validate(settings)


def validate(settings: Settings) -> Settings:
    """Check what single parsers cannot: relations between settings."""
    if not re.fullmatch(r"[A-Za-z0-9_.-]{1,40}", settings.pool_name):
        raise ConfigError(f"pool name {settings.pool_name!r} is invalid: use letters, digits, "
                          "'.', '_' or '-' (at most 40)")
    if not 1 <= settings.size <= MAX_POOL_SIZE:
        raise ConfigError(f"OCR_WORKER_POOL_SIZE={settings.size} is invalid: "
                          f"expected 1 to {MAX_POOL_SIZE}")
    if settings.hard_memory is not None and settings.hard_memory < settings.max_memory:
        raise ConfigError("OCRMP_HARD_MEMORY must not be below OCRMP_MAX_MEMORY")
    if settings.log_format not in ("human", "json"):
        raise ConfigError(f"OCRMP_LOG_FORMAT={settings.log_format!r} is invalid: human or json")
    if settings.outputs and settings.storage_root is None:
        raise ConfigError("OCRMP_OUTPUTS needs a storage directory (OCRMP_STORAGE_ROOT): "
                          "documents read over HTTP (OCRMP_STORAGE_URL) are only read")
    if settings.lease_s <= settings.rescue_interval_s / 4:
        raise ConfigError("OCRMP_LEASE must be longer than a quarter of OCRMP_RESCUE_INTERVAL")
    return settings


def load_config_file(path: Path) -> dict[str, str]:
    """KEY=VALUE lines (a systemd EnvironmentFile): '#' comments, optional quotes."""
    values: dict[str, str] = {}
    try:
        lines = path.read_text().splitlines()
    except OSError as error:
        raise ConfigError(f"cannot read config file {path}: {error.strerror}") from None
    for number, line in enumerate(lines, 1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        key, sep, value = stripped.removeprefix("export ").partition("=")
        if not sep or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", key.strip()):
            raise ConfigError(f"{path}:{number}: expected KEY=VALUE, got {_shown(stripped)} "
                              "(the rest of the line is not shown: it may hold a secret)")
        values[key.strip()] = value.strip().strip("'\"")
    return values


def _shown(line: str) -> str:
    """What of a malformed line may be printed: its leading name, never a value."""
    name = re.match(r"(?:export\s+)?[A-Za-z0-9_]*", line)
    return f"a line starting {name.group(0)!r}" if name and name.group(0) else "a line"


def load(source: Source, environ: Mapping[str, str] | None = None) -> Settings:
    """Settings from the environment, then the config file over it, then the flags."""
    merged = dict(os.environ if environ is None else environ)
    if source.config_file is not None:
        merged.update(load_config_file(source.config_file))
    return replace(from_env(merged).with_overrides(**dict(source.overrides)), source=source)


def reload(settings: Settings) -> Settings:
    """Read the settings again from where they came from (the master's HUP). The databases
    stay as they are: a running pool does not switch servers."""
    return replace(load(settings.source), environments=settings.environments)
