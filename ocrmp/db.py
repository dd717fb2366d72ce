"""Connections to PostgreSQL, and the one place where driver errors become ours."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator

import psycopg
from psycopg import errors as pgerrors

from ocrmp.errors import (
    ConfigError,
    DatabaseError,
    DatabaseRefused,
    DatabaseUnavailable,
    SchemaError,
)

_PASSWORD_IN_URL = re.compile(r"(://[^:/@]*:)[^@]*@")
_PASSWORD_KV = re.compile(r"(password\s*=\s*)('[^']*'|\S+)", re.IGNORECASE)


def redact(text: str) -> str:
    """Hide passwords in DSNs and in messages that may quote them."""
    return _PASSWORD_KV.sub(r"\1***", _PASSWORD_IN_URL.sub(r"\1***@", text))


def describe_dsn(dsn: str) -> str:
    """host:port/dbname of a DSN, for messages; never the password."""
    try:
        info = psycopg.conninfo.conninfo_to_dict(dsn)
    except psycopg.ProgrammingError:
        return "an unparsable DSN"
    host = info.get("host") or "localhost"
    return f"{host}:{info.get('port') or 5432}/{info.get('dbname') or info.get('user') or ''}"


def check_dsn(dsn: str, env: str) -> None:
    """A DSN that cannot even be parsed is a configuration error, not an outage."""
    try:
        psycopg.conninfo.conninfo_to_dict(dsn)
    except psycopg.ProgrammingError as error:
        raise ConfigError(f"invalid DSN for {env}: {redact(str(error))}") from None


# What a server that answered says when it will never let us in as configured (libpq gives
# these as text only: a failed connection has no SQLSTATE). A server starting up, shutting
# down or out of connection slots is not among them: that passes.
_REFUSALS = re.compile(r'FATAL:\s+(database "[^"]*" does not exist|role "[^"]*" does not exist'
                       r'|password authentication failed for user "[^"]*"'
                       r'|no pg_hba\.conf entry for [^\n]*'
                       r'|permission denied for database "[^"]*")')


def refused(message: str) -> str | None:
    """The server's refusal in a connection error's message, if it is one (redacted)."""
    match = _REFUSALS.search(message)
    return redact(match.group(1)) if match else None


def translate(error: psycopg.Error, where: str) -> DatabaseError:
    """One of our exceptions for a driver error, with a message that names where."""
    first_line = redact(str(error).strip().splitlines()[0] if str(error).strip() else repr(error))
    if isinstance(error, pgerrors.UndefinedTable | pgerrors.UndefinedColumn
                  | pgerrors.UndefinedFunction):
        return SchemaError(f"{where}: {first_line} (run `ocrmp db migrate`)")
    if isinstance(error, psycopg.OperationalError | psycopg.InterfaceError):
        if refused(str(error)):
            return DatabaseRefused(f"{where}: the server refused the connection: "
                                   f"{refused(str(error))} (check the DSN)")
        return DatabaseUnavailable(f"{where}: cannot reach the database: {first_line}")
    return DatabaseError(f"{where}: {first_line}")


@contextlib.contextmanager
def translated(where: str) -> Iterator[None]:
    try:
        yield
    except psycopg.Error as error:
        raise translate(error, where) from error


def connect(dsn: str, *, autocommit: bool = True, timeout_s: float = 5.0,
            application_name: str = "ocrmp",
            statement_timeout_s: float | None = None) -> psycopg.Connection:
    """Open a connection, or raise DatabaseUnavailable naming host:port/db (never the password).
    With `statement_timeout_s`, the server cancels a statement running longer: what an
    operator's command asks ends even when its client is killed."""
    where = describe_dsn(dsn)
    # The claim's CTE re-planned on every call costs more than running it: a generic plan,
    # once prepared, is reused (psycopg prepares a statement after a few executions).
    options = "-c plan_cache_mode=force_generic_plan"
    if statement_timeout_s is not None:
        options += f" -c statement_timeout={int(statement_timeout_s * 1000)}"
    try:
        return psycopg.connect(dsn, autocommit=autocommit, connect_timeout=max(1, int(timeout_s)),
                               application_name=application_name, options=options)
    except psycopg.ProgrammingError as error:
        raise DatabaseUnavailable(f"invalid DSN: {redact(str(error))}") from error
    except psycopg.Error as error:
        raise translate(error, where) from error
