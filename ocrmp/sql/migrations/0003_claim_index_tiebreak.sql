-- The claim orders by (created_at, id). With id in the index, rows that share a created_at
-- (a bulk insert in one transaction) are read in order instead of sorted on every claim.
CREATE INDEX IF NOT EXISTS extraction_queue_ocr_ready_order
    ON extraction_queue (document_source, created_at, id)
    WHERE status_id = 3;

DROP INDEX IF EXISTS extraction_queue_ocr_ready;
