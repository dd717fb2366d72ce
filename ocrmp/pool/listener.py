"""One LISTEN connection per environment: wakes the master when a row becomes ready.

If the connection breaks (PostgreSQL restarted), the listener reconnects with backoff; the
master keeps claiming by polling meanwhile.
"""

from __future__ import annotations

import contextlib
import logging
import time

import psycopg

from ocrmp.db import connect
from ocrmp.errors import DatabaseError
from ocrmp.pool.policy import backoff

log = logging.getLogger("ocrmp.listener")
CHANNEL = "ocrmp_ready"


class ReadyListener:
    def __init__(self, env: str, dsn: str) -> None:
        self.env = env
        self.dsn = dsn
        self.conn: psycopg.Connection | None = None
        self.retry_at = 0.0
        self.failures = 0

    def fileno(self) -> int | None:
        return self.conn.pgconn.socket if self.conn is not None else None

    def ensure(self, now: float) -> None:
        """Connect and LISTEN if not connected and the backoff has passed."""
        if self.conn is not None or now < self.retry_at:
            return
        try:
            conn = connect(self.dsn, application_name="ocrmp-listen")
            conn.execute(f"LISTEN {CHANNEL}")
        except DatabaseError as error:
            self.failures += 1
            self.retry_at = now + backoff(self.failures, 0.5, 5.0)
            if self.failures == 1:
                log.warning("LISTEN on %s failed, polling meanwhile: %s", self.env, error)
            return
        if self.failures:
            log.info("LISTEN on %s restored", self.env, extra={"env": self.env})
        self.conn, self.failures = conn, 0

    def drain(self) -> int:
        """Notifications since the last call (the socket was readable)."""
        if self.conn is None:
            return 0
        pgconn = self.conn.pgconn
        try:
            pgconn.consume_input()
        except psycopg.OperationalError as error:
            log.warning("LISTEN connection to %s lost: %s", self.env, error)
            self.drop(time.monotonic())
            return 0
        notes = 0
        while pgconn.notifies() is not None:
            notes += 1  # what a row holds is never read: the queue is counted instead
        return notes

    def drop(self, now: float) -> None:
        if self.conn is not None:
            with contextlib.suppress(psycopg.Error):
                self.conn.close()
        self.conn = None
        self.failures += 1
        self.retry_at = now + 0.5

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None
