"""The pool with the real OCR pipeline writing OCRMP_OUTPUTS beside each done document."""

from __future__ import annotations

import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

from ocrmp.corpus import acte_page, cer, index_page, write_image, write_pdf
from ocrmp.errors import error_kind
from ocrmp.outputs.errors import OutputNotWritten
from ocrmp.store import JobStore
from tests.poolrun import Pool


def test_every_done_document_has_its_outputs_beside_it_and_their_paths_recorded(
        dsn: str, tmp_path: Path) -> None:
    root = tmp_path / "storage"
    (root / "acte").mkdir(parents=True)
    (root / "index").mkdir(parents=True)
    deed = acte_page(91, lines=8)
    write_pdf([deed], root / "acte" / "deed.pdf")
    write_pdf([index_page(92, rows=3)], root / "index" / "ledger.pdf")
    write_image(acte_page(93, lines=3), root / "acte" / "scan.png")
    write_pdf([acte_page(94, lines=3)], root / "acte" / "blocked.pdf")
    # A directory where the ALTO of blocked.pdf would go: its write fails every time.
    (root / "acte" / "blocked.alto.xml").mkdir()
    (root / "acte" / "blocked.alto.xml" / "keep").write_bytes(b"")
    store = JobStore(dsn)
    deed_id = store.enqueue("acte", "acte/deed.pdf", "1 111 111")
    ledger_id = store.enqueue("index", "index/ledger.pdf", "2 222 222")
    image_id = store.enqueue("acte", "acte/scan.png", "3 333 333")
    blocked_id = store.enqueue("acte", "acte/blocked.pdf", "4 444 444")
    pool = Pool(dsn, tmp_path, "--size", "2", "--until-idle",
                env={"OCRMP_STORAGE_ROOT": str(root), "OCRMP_RETRY_BASE": "0",
                     "OCRMP_OUTPUTS": "pdf,alto"}).start()
    assert pool.wait(timeout=300) == 0, pool.log()

    for job_id, name in ((deed_id, "acte/deed"), (ledger_id, "index/ledger")):
        row = store.get(job_id)
        assert row is not None and row["status_id"] == 5, row
        outputs = row["ocr_result"]["outputs"]
        assert outputs == {"pdf": f"{name}.ocr.pdf", "alto": f"{name}.alto.xml"}
        ET.fromstring((root / outputs["alto"]).read_bytes())
        check = subprocess.run(["qpdf", "--check", str(root / outputs["pdf"])],
                               capture_output=True, check=False)
        assert check.returncode == 0
    text = subprocess.run(["pdftotext", str(root / "acte" / "deed.ocr.pdf"), "-"],
                          capture_output=True, text=True, check=True).stdout
    assert cer(deed.text, text) <= 0.02
    # An image has no PDF to make searchable: it gets its ALTO.
    image = store.get(image_id)
    assert image is not None and image["status_id"] == 5
    assert image["ocr_result"]["outputs"] == {"alto": "acte/scan.alto.xml"}
    # A write that fails fails the attempt as a transient error: retried, then given up.
    blocked = store.get(blocked_id)
    assert blocked is not None and blocked["status_id"] == 4
    assert blocked["ocr_attempts"] == 3
    assert error_kind(blocked["ocr_error"]) == OutputNotWritten.kind
