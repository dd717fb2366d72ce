"""Synthetic land-registry pages with ground truth, and the ground-truth utilities.

Real scans cannot live in the repository, so tests and benchmarks draw their own: deeds
(`acte`) and index ledgers in the registry's formats, printed in several typefaces at
scan resolution, scanned the ways real pages are (turned, skewed, colour, yellowed,
faded or violet ink, stamps, handwriting, faxes). Everything is a pure function of the
seed, so a failing test names the page that broke it.

    acte_page(seed, dpi=150, orientation_deg=270, ink="violet")
    ledger_page(seed, format="inscription", face="courier", rules="horizontal")
    random_page(seed, "index")            # every option drawn from the seed
    acte_page(seed, layout="columns-2")   # a letter, a poem, columns, a report
    benchmark_corpus(40, "acte", condition="fax")
"""

from ocrmp.corpus.acte import LAYOUTS, acte_capacity, acte_page
from ocrmp.corpus.cli import main
from ocrmp.corpus.colour import INKS, PAPERS
from ocrmp.corpus.degrade import rotate, turn
from ocrmp.corpus.fonts import FACES, TYPEWRITER_FACES, FontMissing, font, font_path
from ocrmp.corpus.formats import FORMATS
from ocrmp.corpus.layout import PAGE_INCHES, font_px
from ocrmp.corpus.ledger import INDEX_HEADER, INDEX_KEYS, index_page, ledger_page
from ocrmp.corpus.page import GeneratedPage, LedgerPage, Mark
from ocrmp.corpus.scan import Scan
from ocrmp.corpus.sets import (
    CONDITIONS,
    LEDGER_LAYOUTS,
    PAGE_MAKERS,
    benchmark_corpus,
    layout_page,
    make_document,
    random_options,
    random_page,
)
from ocrmp.corpus.table import CELL_SEPARATOR, RULE_WEIGHTS, RULES, index_table
from ocrmp.corpus.truth import cer, levenshtein
from ocrmp.corpus.writers import write_image, write_pdf

__all__ = [
    "CELL_SEPARATOR", "CONDITIONS", "FACES", "FORMATS", "INDEX_HEADER", "INDEX_KEYS", "INKS",
    "LAYOUTS", "LEDGER_LAYOUTS",
    "PAGE_INCHES", "PAGE_MAKERS", "PAPERS", "RULES", "RULE_WEIGHTS", "TYPEWRITER_FACES",
    "FontMissing", "GeneratedPage", "LedgerPage", "Mark", "Scan", "acte_capacity", "acte_page",
    "benchmark_corpus", "cer", "font", "font_path", "font_px", "index_page", "index_table",
    "layout_page", "ledger_page", "levenshtein", "main", "make_document", "random_options",
    "random_page",
    "rotate", "turn", "write_image", "write_pdf",
]
