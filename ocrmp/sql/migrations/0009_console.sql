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

-- Pages per minute over the last day: only the done rows of that day are read.
CREATE INDEX IF NOT EXISTS extraction_queue_ocr_completed
    ON extraction_queue (ocr_completed_at) INCLUDE (ocr_page_count)
    WHERE status_id = 5;
