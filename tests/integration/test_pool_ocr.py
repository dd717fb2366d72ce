"""The pool with the real OCR pipeline and tesseract: good documents and poison ones."""

from __future__ import annotations

from pathlib import Path

import psycopg

from ocrmp.corpus import acte_page, cer, index_page, write_pdf
from ocrmp.errors import error_kind
from ocrmp.ocr.errors import CorruptDocument, DocumentNotFound, PathEscapesRoot
from ocrmp.store import JobStore
from tests.poolrun import Pool


def test_real_documents_complete_and_poison_ones_fail_clearly(dsn: str, tmp_path: Path) -> None:
    root = tmp_path / "storage"
    (root / "acte").mkdir(parents=True)
    (root / "index").mkdir(parents=True)
    deed = acte_page(11, lines=6)
    ledger = index_page(12, rows=4)
    write_pdf([deed.image], root / "acte" / "deed.pdf")
    write_pdf([ledger.image], root / "index" / "ledger.pdf")
    (root / "acte" / "corrupt.pdf").write_bytes(b"%PDF-1.4\n garbage, not a document")
    (tmp_path / "outside.pdf").write_bytes((root / "acte" / "deed.pdf").read_bytes())
    store = JobStore(dsn)
    good_acte = store.enqueue("acte", "acte/deed.pdf", "1 111 111")
    good_index = store.enqueue("index", "index/ledger.pdf", "2 222 222")
    corrupt = store.enqueue("acte", "acte/corrupt.pdf", "3 333 333")
    missing = store.enqueue("acte", "acte/missing.pdf", "4 444 444")
    escape = store.enqueue("acte", "acte/../../outside.pdf", "5 555 555")
    plan = store.enqueue("plan_cadastraux", "plans/p.pdf", "6 666 666")
    pool = Pool(dsn, tmp_path, "--size", "2", "--until-idle",
                env={"OCRMP_STORAGE_ROOT": str(root), "OCRMP_RETRY_BASE": "0"}).start()
    assert pool.wait(timeout=300) == 0, pool.log()

    def job(job_id: str) -> dict[str, object]:
        row = store.get(job_id)
        assert row is not None
        return row

    assert job(good_acte)["status_id"] == 5
    assert cer(deed.text, str(job(good_acte)["file_content"])) < 0.02
    assert job(good_index)["status_id"] == 5
    result = job(good_index)["ocr_result"]
    assert isinstance(result, dict)
    assert "rows" in str(result)
    # The kind, not words: each ocr_error quotes its path, and these paths say "corrupt",
    # "missing" and "outside" whatever went wrong.
    for poison, error in ((corrupt, CorruptDocument), (missing, DocumentNotFound),
                          (escape, PathEscapesRoot)):
        row = job(poison)
        assert row["status_id"] == 4, row
        assert row["ocr_attempts"] == 1  # permanent: no retry
        assert error_kind(str(row["ocr_error"])) == error.kind, row["ocr_error"]
    assert job(plan)["status_id"] == 5
    with psycopg.connect(dsn) as conn:
        assert conn.execute("SELECT count(*) FROM extraction_queue WHERE status_id = 6"
                            ).fetchone() == (0,)
