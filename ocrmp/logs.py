"""Logging: human lines by default, JSON with the same fields, a reopenable file, no secrets."""

from __future__ import annotations

import json
import logging
import sys
import time
from pathlib import Path
from typing import Any

from ocrmp.db import redact

_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName"}


def extra_fields(record: logging.LogRecord) -> dict[str, Any]:
    return {key: value for key, value in vars(record).items() if key not in _STANDARD}


class RedactingFilter(logging.Filter):
    """Passwords in DSNs and tokens never reach a log line, whoever formats it."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = redact(record.getMessage())
        record.args = None
        for key, value in extra_fields(record).items():
            if isinstance(value, int | float | bool) or value is None:
                continue
            text = str(value)
            cleaned = redact(text)
            if cleaned != text:  # keep the type (JSON lists, numbers) unless it hides a secret
                setattr(record, key, cleaned)
        return True


def _exception_text(formatter: logging.Formatter, record: logging.LogRecord) -> str:
    """The traceback, redacted: an exception's message may quote a DSN."""
    assert record.exc_info
    return redact(formatter.formatException(record.exc_info))


# Control characters (and the Unicode line breaks) as escapes: a document number or path
# from a queue row cannot start a line of its own, move the cursor or colour a terminal.
_ESCAPES = {code: f"\\x{code:02x}" for code in [*range(0x20), *range(0x7F, 0xA0)]}
_ESCAPES.update({0x2028: "\\u2028", 0x2029: "\\u2029"})


def escape(text: str) -> str:
    return text.translate(_ESCAPES)


class HumanFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(record.created))
        fields = extra_fields(record)
        tail = " ".join(f"{key}={escape(str(value))}" for key, value in fields.items())
        line = f"{stamp} {record.levelname:<7} {escape(record.getMessage())}"
        line = f"{line} {{{tail}}}" if tail else line
        if record.exc_info:
            line += "\n" + _exception_text(self, record)
        return line


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        payload: dict[str, Any] = {
            "ts": round(record.created, 3), "level": record.levelname.lower(),
            "logger": record.name, "pid": record.process, "msg": record.getMessage(),
        }
        payload.update(extra_fields(record))
        if record.exc_info:
            payload["exc"] = _exception_text(self, record)
        return json.dumps(payload, default=str, ensure_ascii=False)


_handler: logging.Handler | None = None


def setup(fmt: str = "human", log_file: Path | None = None, level: int = logging.INFO) -> None:
    """Configure the `ocrmp` logger once per process."""
    global _handler
    root = logging.getLogger("ocrmp")
    if _handler is not None:
        root.removeHandler(_handler)
        _handler.close()
    handler: logging.Handler = (logging.FileHandler(log_file, encoding="utf-8") if log_file
                                else logging.StreamHandler(sys.stderr))
    handler.setFormatter(JsonFormatter() if fmt == "json" else HumanFormatter())
    handler.addFilter(RedactingFilter())
    root.addHandler(handler)
    root.setLevel(level)
    root.propagate = False
    _handler = handler


def reopen() -> None:
    """Reopen the log file (after logrotate moved it): the master's SIGUSR1."""
    if isinstance(_handler, logging.FileHandler):
        _handler.acquire()
        try:
            _handler.close()
            _handler.stream = _handler._open()
        finally:
            _handler.release()
