"""`ocrmp ocr PATH`: OCR one local file with the workers' pipeline, no database."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from ocrmp.cli import main
from ocrmp.cli.common import fail, guarded
from ocrmp.cli.options import one_of
from ocrmp.config import ocr_from_env
from ocrmp.exitcodes import ExitCode
from ocrmp.ocr.admission import readable
from ocrmp.ocr.errors import EngineUnavailable
from ocrmp.ocr.settings import ENGINES
from ocrmp.outputs import FORMATS, is_pdf, render
from ocrmp.outputs.errors import OutputNeedsPdf
from ocrmp.outputs.files import write_whole
from ocrmp.vocabulary import MODES, Kind


def _read(path: str) -> Path:
    """The file, checked readable; the pipeline reads it page by page, not whole."""
    readable(Path(path))
    return Path(path)


@main.command("ocr")
@click.argument("path", type=click.Path(dir_okay=False))
@click.option("--kind", type=one_of(MODES), default=Kind.ACTE.value,
              help="acte: running text; index: ledger rows.")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default=None,
              help="text, json (the result with word boxes), alto, hocr, or pdf (the PDF "
                   "with an invisible text layer) [default: text].")
@click.option("-o", "--output", type=click.Path(dir_okay=False), default=None,
              help="Write to this file, not to standard output.")
@click.option("--json", "as_json", is_flag=True, help="The same as --format json.")
@click.option("--engine", type=click.Choice(ENGINES), default=None,
              help="OCR engine [default: OCRMP_ENGINE or auto].")
@click.option("--lang", default=None, help="Tesseract language(s) [default: OCRMP_LANG or fra].")
@guarded
def ocr_command(path: str, kind: str, fmt: str | None, output: str | None, as_json: bool,
                engine: str | None, lang: str | None) -> None:
    """OCR the PDF or image at PATH and print its text (pages separated by a form feed),
    or write it in another format.

    \b
    Examples:
      ocrmp ocr scan.pdf --kind index --json
      ocrmp ocr deed.pdf --format pdf -o deed.ocr.pdf
    """
    # The pipeline (numpy, opencv, pdfium) loads here, not with every `ocrmp` command.
    from ocrmp.ocr.pipeline import Pipeline

    settings = ocr_from_env(os.environ, engine=engine, lang=lang)
    data = _read(path)
    try:
        pipeline = Pipeline(settings)
    except EngineUnavailable as exc:
        fail(str(exc), ExitCode.ENGINE)
    fmt = fmt or ("json" if as_json else "text")
    if fmt == "pdf" and not is_pdf(data):  # before minutes of OCR, not after
        raise OutputNeedsPdf(path)
    result = pipeline.process(data, kind, source=path)
    rendered = render(fmt, result, source=path, document=data)
    if output is not None:
        _write(Path(output), rendered)
    elif fmt == "text":
        click.echo(result.text)
    else:
        sys.stdout.flush()
        sys.stdout.buffer.write(rendered)


def _write(path: Path, data: bytes) -> None:
    try:
        write_whole(path, data)
    except OSError as exc:
        fail(f"{path}: cannot write the output ({exc.strerror})", ExitCode.FAILURE)
