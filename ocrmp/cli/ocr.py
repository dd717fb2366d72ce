"""`ocrmp ocr PATH`: OCR one local file with the workers' pipeline, no database."""

from __future__ import annotations

import json
import os
from pathlib import Path

import click

from ocrmp.cli import main
from ocrmp.cli.common import fail, guarded
from ocrmp.cli.options import one_of
from ocrmp.config import ocr_from_env
from ocrmp.exitcodes import ExitCode
from ocrmp.ocr.errors import DocumentNotFound, EngineUnavailable
from ocrmp.ocr.settings import ENGINES
from ocrmp.ocr.storage import refuse_irregular
from ocrmp.vocabulary import MODES, Kind


def _read(path: str) -> Path:
    """The file, checked readable; the pipeline reads it page by page, not whole."""
    file = Path(path)
    try:
        refuse_irregular(file.stat(), path)  # before open(): a FIFO would block it
        with open(file, "rb"):
            pass
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
        raise DocumentNotFound(path, "no such file") from None
    except PermissionError:
        raise DocumentNotFound(path, "permission denied") from None
    return file


@main.command("ocr")
@click.argument("path", type=click.Path(dir_okay=False))
@click.option("--kind", type=one_of(MODES), default=Kind.ACTE.value,
              help="acte: running text; index: ledger rows.")
@click.option("--json", "as_json", is_flag=True, help="Print the JSON result, not the text.")
@click.option("--engine", type=click.Choice(ENGINES), default=None,
              help="OCR engine [default: OCRMP_ENGINE or auto].")
@click.option("--lang", default=None, help="Tesseract language(s) [default: OCRMP_LANG or fra].")
@guarded
def ocr_command(path: str, kind: str, as_json: bool, engine: str | None,
                lang: str | None) -> None:
    """OCR the PDF or image at PATH and print its text (pages separated by a form feed).

    \b
    Example:
      ocrmp ocr scan.pdf --kind index --json
    """
    # The pipeline (numpy, opencv, pdfium) loads here, not with every `ocrmp` command.
    from ocrmp.ocr.pipeline import Pipeline

    settings = ocr_from_env(os.environ, engine=engine, lang=lang)
    data = _read(path)
    try:
        pipeline = Pipeline(settings)
    except EngineUnavailable as exc:
        fail(str(exc), ExitCode.ENGINE)
    result = pipeline.process(data, kind, source=path)
    if as_json:
        click.echo(json.dumps({"source": path, **result.to_json()}, ensure_ascii=False,
                              indent=2))
    else:
        click.echo(result.text)
