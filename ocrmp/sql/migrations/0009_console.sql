-- What the web console (`ocrmp web`) needs of its own, added without touching the upstream's
-- columns.

-- A person's acceptance of a flagged document: the reading was looked at and kept. It holds
-- for the reading that was accepted (completed_at): a document read again is flagged anew.
CREATE TABLE IF NOT EXISTS ocrmp_reviews (
    job_id       uuid PRIMARY KEY,
    completed_at timestamptz,
    accepted_by  text NOT NULL,
    accepted_at  timestamptz NOT NULL DEFAULT now()
);

-- The jobs list pages newest first by (created_at, id), with or without a status: keyset
-- pagination walks these indexes and stops after a page, however many rows the table holds.
CREATE INDEX IF NOT EXISTS extraction_queue_ocr_created
    ON extraction_queue (created_at DESC, id DESC);
CREATE INDEX IF NOT EXISTS extraction_queue_ocr_status_created
    ON extraction_queue (status_id, created_at DESC, id DESC);
CREATE INDEX IF NOT EXISTS extraction_queue_document_number
    ON extraction_queue (document_number);
-- Filtered by a flag: the flagged rows alone, in the list's order (the flagged index of
-- 0005 is ordered by completion, for `ocrmp review`).
CREATE INDEX IF NOT EXISTS extraction_queue_ocr_flagged_created
    ON extraction_queue (created_at DESC, id DESC)
    WHERE status_id = 5 AND ocrmp_has_flagged_pages(ocr_result);

-- The queue's totals by kind and status (`queue_stats`, which `ocrmp status` and the
-- console's overview run): counted from this narrow index, not from the table's heap.
CREATE INDEX IF NOT EXISTS extraction_queue_ocr_kind_status
    ON extraction_queue (document_source, status_id);

-- Pages per minute over the last day: only the done rows of that day are read.
CREATE INDEX IF NOT EXISTS extraction_queue_ocr_completed
    ON extraction_queue (ocr_completed_at) INCLUDE (ocr_page_count)
    WHERE status_id = 5;
