"""The `ocrmp` command. Each submodule adds its commands to `main`."""

from __future__ import annotations

import click

from ocrmp import __version__
from ocrmp.cli.common import Group


@click.group(cls=Group,
             context_settings={"help_option_names": ["-h", "--help"], "show_default": True})
@click.version_option(__version__, prog_name="ocrmp")
def main() -> None:
    """ocrmp: an OCR worker pool for scanned land-registry documents queued in PostgreSQL.

    \b
    Example:
      ocrmp run --size 2
    """


def _register() -> None:
    import importlib

    for name in ("db", "demo", "jobs", "logs", "ocr", "pool", "queue", "review",
                 "status", "web"):
        try:
            importlib.import_module(f"ocrmp.cli.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"ocrmp.cli.{name}":
                raise


_register()
