"""The queue as the demo sees it: the product's JobStore for enqueueing and reading a job,
and the demo's own queries (`queries.sql` beside this file) for clearing its earlier samples
and following its jobs."""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from importlib import resources
from typing import Any

from ocrmp.sqlfiles import parse_named_queries
from ocrmp.store import JobStore, NamedQueries

APPLICATION_NAME = "ocrmp-demo"


@functools.cache
def demo_queries() -> dict[str, str]:
    return parse_named_queries(resources.files("ocrmp.demo").joinpath("queries.sql").read_text())


class DemoStore:
    def __init__(self, dsn: str) -> None:
        self.jobs = JobStore(dsn, application_name=APPLICATION_NAME)
        self._demo = NamedQueries(dsn, demo_queries(), self.jobs.where,
                                  application_name=APPLICATION_NAME)

    def enqueue(self, kind: str, supabase_path: str, document_number: str) -> str:
        return self.jobs.enqueue(kind, supabase_path, document_number)

    def get(self, job_id: str) -> dict[str, Any] | None:
        return self.jobs.get(job_id)

    def forget(self, prefixes: Sequence[str]) -> int:
        """Delete the jobs whose documents live under these path prefixes."""
        return len(self._demo.run("delete_under_prefixes", {"prefixes": list(prefixes)}))

    def statuses(self, ids: Iterable[str]) -> list[dict[str, Any]]:
        return self._demo.run("job_statuses", {"ids": list(ids)})

    def close(self) -> None:
        self._demo.close()
        self.jobs.close()
