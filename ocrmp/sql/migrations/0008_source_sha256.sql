-- The sha256 of the document a row was queued with by `ocrmp enqueue` (NULL for rows the
-- downloader queues): the same content queued twice is refused, unless asked for. A
-- nullable column without a default: no table rewrite, the upstream's inserts stay valid.
ALTER TABLE extraction_queue ADD COLUMN IF NOT EXISTS ocr_source_sha256 text;
CREATE INDEX IF NOT EXISTS extraction_queue_ocr_source_sha256
    ON extraction_queue (ocr_source_sha256) WHERE ocr_source_sha256 IS NOT NULL;
