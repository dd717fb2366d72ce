"""Searchable PDFs: `ocrmp ocr --format pdf` beside OCRmyPDF, on the same generated deeds.

    .venv/bin/python bench/outputs.py [--documents 6] [--pages 2] [--runs 3] [--seed 500]

Each document is a PDF of `--pages` generated deeds (checking seeds: bench/halves.py) under
one condition in turn (clean, degraded, rotated, low-dpi, fax, colour: a scanner's PDF,
one image per page). Both tools are run as a user runs them, one process per document on
one core (`OMP_THREAD_LIMIT=1`):

- ocrmp:    `ocrmp ocr IN --kind acte --format pdf -o OUT`
- OCRmyPDF: `ocrmypdf -l fra --rotate-pages --output-type pdf -j 1 IN OUT` (no PDF/A:
  this machine has no Ghostscript; --rotate-pages so its turned pages are read upright)

For each output: the text `pdftotext` (poppler) reads from it against the truth (CER per
page, whitespace collapsed; pages split at pdftotext's form feeds), the same for the text
pdfium (Chrome's viewer) reads and for the tool's own text (ocrmp's text output,
OCRmyPDF's `--sidecar`, from a run not timed: what the PDF can at best give back), its
size over the input's, whether `qpdf --check` passes, whether its page images are the
input's byte for byte, and the seconds per page. `--runs` rounds alternate which tool
goes first; a speed figure is the median over rounds of each round's seconds per page,
with its range.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pikepdf
import pypdfium2 as pdfium

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from common import command_line, print_table  # noqa: E402
from halves import CHECKING_SEEDS  # noqa: E402
from realcorpus import ocrmypdf_binary  # noqa: E402

from ocrmp.corpus import acte_page, cer, write_pdf  # noqa: E402
from ocrmp.corpus.page import GeneratedPage  # noqa: E402

CONDITIONS = {"clean": {}, "degraded": {"degrade": True}, "rotated": {"orientation_deg": 90},
              "low-dpi": {"dpi": 150}, "fax": {"fax": True, "dpi": 200},
              "colour": {"colour": True, "paper": "yellowed"}}
ROTATIONS = (90, 180, 270)


@dataclass
class Document:
    pdf: Path
    condition: str
    pages: list[GeneratedPage]


@dataclass
class Tool:
    name: str
    seconds: list[float] = field(default_factory=list)  # per round: all documents
    cers: list[float] = field(default_factory=list)  # per page, last round: pdftotext
    pdfium_cers: list[float] = field(default_factory=list)  # the same, read by pdfium
    own_cers: list[float] = field(default_factory=list)  # the tool's own text (its reading)
    labels: list[str] = field(default_factory=list)  # each page's condition (and turn)
    ratios: list[float] = field(default_factory=list)  # output size / input size
    checked: int = 0  # outputs qpdf --check passes
    same_images: int = 0  # outputs whose page images are the input's, byte for byte
    failures: list[str] = field(default_factory=list)


def corpus(folder: Path, documents: int, pages: int, seed: int) -> list[Document]:
    made = []
    names = list(CONDITIONS)
    for d in range(documents):
        condition = names[d % len(names)]
        options = dict(CONDITIONS[condition])
        drawn = []
        for p in range(pages):
            page_seed = CHECKING_SEEDS.start + seed + d * 100 + p
            if condition == "rotated":  # each way a scan can be turned, in turn
                options["orientation_deg"] = ROTATIONS[(d * pages + p) % len(ROTATIONS)]
            drawn.append(acte_page(page_seed, lines=16, **options))
        pdf = folder / f"doc{d}-{condition}.pdf"
        write_pdf(drawn, pdf)
        made.append(Document(pdf, condition, drawn))
    return made


def commands(tool: str, source: Path, out: Path, ocrmypdf: str) -> list[str]:
    if tool == "ocrmp":
        return [sys.executable, "-m", "ocrmp", "ocr", str(source), "--kind", "acte",
                "--format", "pdf", "-o", str(out)]
    return [ocrmypdf, "-q", "-l", "fra", "--rotate-pages", "--output-type", "pdf", "-j", "1",
            str(source), str(out)]


def images(path: Path) -> list[bytes]:
    with pikepdf.open(path) as pdf:
        return [bytes(x.read_raw_bytes()) for page in pdf.pages
                for x in page.obj.Resources.get("/XObject", {}).values()
                if x.get("/Subtype") == pikepdf.Name.Image]


def own_text(tool: str, doc: Document, folder: Path, ocrmypdf: str) -> list[str]:
    """What the tool read, as it gives it: ocrmp's text, OCRmyPDF's sidecar (not timed)."""
    if tool == "ocrmp":
        done = subprocess.run([sys.executable, "-m", "ocrmp", "ocr", str(doc.pdf), "--kind",
                               "acte"], capture_output=True, text=True, check=True)
        return done.stdout.split("\n\f\n")
    sidecar = folder / f"{doc.pdf.stem}.sidecar.txt"
    subprocess.run([ocrmypdf, "-q", "-l", "fra", "--rotate-pages", "--output-type", "pdf",
                    "-j", "1", "--sidecar", str(sidecar), str(doc.pdf),
                    str(folder / "sidecar.pdf")], capture_output=True, check=True)
    return sidecar.read_text().split("\f")


def judge(tool: Tool, doc: Document, out: Path, own: list[str]) -> None:
    for page in doc.pages:
        turn = page.options.get("orientation_deg") or 0
        tool.labels.append(f"{doc.condition} {turn}°" if turn else doc.condition)
    for page, read in zip(doc.pages, [*own, *[""] * len(doc.pages)], strict=False):
        tool.own_cers.append(cer(page.text, read))
    text = subprocess.run(["pdftotext", str(out), "-"], capture_output=True, text=True,
                          check=True).stdout
    for page, read in zip(doc.pages, [*text.split("\f"), *[""] * len(doc.pages)], strict=False):
        tool.cers.append(cer(page.text, read))
    shown = pdfium.PdfDocument(out)
    for page, index in zip(doc.pages, range(len(shown)), strict=False):
        read = shown[index].get_textpage().get_text_range().replace("\r\n", "\n")
        tool.pdfium_cers.append(cer(page.text, read))
    shown.close()
    tool.ratios.append(out.stat().st_size / doc.pdf.stat().st_size)
    check = subprocess.run(["qpdf", "--check", str(out)], capture_output=True, check=False)
    tool.checked += check.returncode == 0
    tool.same_images += images(out) == images(doc.pdf)


def run_round(tool: Tool, docs: list[Document], folder: Path, ocrmypdf: str,
              last: bool) -> None:
    env = {**os.environ, "OMP_THREAD_LIMIT": "1"}
    spent = 0.0
    for doc in docs:
        out = folder / f"{doc.pdf.stem}.{tool.name}.pdf"
        started = time.perf_counter()
        done = subprocess.run(commands(tool.name, doc.pdf, out, ocrmypdf), env=env,
                              capture_output=True, text=True, check=False)
        spent += time.perf_counter() - started
        if done.returncode != 0:
            tool.failures.append(f"{doc.pdf.name}: exit {done.returncode} {done.stderr[-200:]}")
        elif last:
            judge(tool, doc, out, own_text(tool.name, doc, folder, ocrmypdf))
    tool.seconds.append(spent)


def report(tools: list[Tool], pages: int, docs: list[Document]) -> None:
    print(f"# {command_line()}")
    print(f"# {len(docs)} documents, {pages} pages: "
          + ", ".join(sorted({d.condition for d in docs})))
    rows = []
    for tool in tools:
        per_page = [s / pages for s in tool.seconds]
        rows.append([tool.name, _cer(tool.own_cers, statistics.mean),
                     _cer(tool.own_cers, max), _cer(tool.cers, statistics.mean),
                     _cer(tool.cers, statistics.median), _cer(tool.cers, max),
                     _cer(tool.pdfium_cers, statistics.mean), _cer(tool.pdfium_cers, max),
                     f"{statistics.median(tool.ratios):.3f}" if tool.ratios else "-",
                     f"{max(tool.ratios):.3f}" if tool.ratios else "-",
                     f"{tool.checked}/{len(docs)}", f"{tool.same_images}/{len(docs)}",
                     f"{statistics.median(per_page):.2f} ({min(per_page):.2f}-"
                     f"{max(per_page):.2f})"])
    print_table(rows, ["tool", "read CER mean", "read worst", "CER mean", "CER median",
                       "CER worst", "pdfium CER mean",
                       "pdfium worst", "size × input",
                       "size worst", "qpdf ok", "images kept", "s/page median (range)"])
    by_condition(tools)
    ocrmp, peer = tools
    if ocrmp.seconds and peer.seconds:
        ratio = statistics.median(peer.seconds) / statistics.median(ocrmp.seconds)
        print(f"# OCRmyPDF takes {ratio:.2f} × ocrmp's time per page")
    for tool in tools:
        for failure in tool.failures:
            print(f"# {tool.name} failed: {failure}")


def by_condition(tools: list[Tool]) -> None:
    """Mean CER per condition (a turned page by its turn): read, pdftotext, pdfium."""
    labels = list(dict.fromkeys(tools[0].labels))
    rows = []
    for label in labels:
        row = [label]
        for tool in tools:
            picked = [i for i, name in enumerate(tool.labels) if name == label]
            for values in (tool.own_cers, tool.cers, tool.pdfium_cers):
                row.append(_cer([values[i] for i in picked], statistics.mean))
        rows.append(row)
    print_table(rows, ["condition", *(f"{tool.name} {what}" for tool in tools
                                      for what in ("read", "pdftotext", "pdfium"))])


def _cer(values: list[float], how: Callable[[list[float]], float]) -> str:
    return f"{100 * how(values):.2f} %" if values else "-"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--documents", type=int, default=6)
    parser.add_argument("--pages", type=int, default=2)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=500)
    args = parser.parse_args()
    ocrmypdf = ocrmypdf_binary()
    if ocrmypdf is None:
        sys.exit("OCRmyPDF is not installed: pip install -e '.[bench]'")
    with tempfile.TemporaryDirectory(prefix="ocrmp-outputs-") as tmp:
        folder = Path(tmp)
        docs = corpus(folder, args.documents, args.pages, args.seed)
        tools = [Tool("ocrmp"), Tool("ocrmypdf")]
        for r in range(args.runs):
            order = tools if r % 2 == 0 else tools[::-1]
            for tool in order:
                run_round(tool, docs, folder, ocrmypdf, last=r == args.runs - 1)
        report(tools, sum(len(d.pages) for d in docs), docs)


if __name__ == "__main__":
    main()
