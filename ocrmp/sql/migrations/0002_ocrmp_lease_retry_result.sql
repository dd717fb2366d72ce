-- What ocrmp adds: leases, retry times, the JSON result, the claim index and the wake-up trigger.

ALTER TABLE extraction_queue ADD COLUMN IF NOT EXISTS ocr_lease_expires_at timestamptz;
ALTER TABLE extraction_queue ADD COLUMN IF NOT EXISTS ocr_next_attempt_at  timestamptz;
ALTER TABLE extraction_queue ADD COLUMN IF NOT EXISTS ocr_result           jsonb;
ALTER TABLE extraction_queue ADD COLUMN IF NOT EXISTS ocr_page_count       integer;

-- The claim reads only ready rows, oldest first, per kind: a partial index keeps it small
-- however many finished rows the table accumulates.
CREATE INDEX IF NOT EXISTS extraction_queue_ocr_ready
    ON extraction_queue (document_source, created_at)
    WHERE status_id = 3;

-- Rescue looks for running rows whose lease has run out.
CREATE INDEX IF NOT EXISTS extraction_queue_ocr_running
    ON extraction_queue (ocr_lease_expires_at)
    WHERE status_id = 6;

-- Wake idle pools when a row becomes ready. The payload is the kind; PostgreSQL folds
-- identical notifications of one transaction, so a bulk insert wakes a listener once per kind.
CREATE OR REPLACE FUNCTION ocrmp_notify_ready() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.status_id = 3 AND (TG_OP = 'INSERT' OR OLD.status_id IS DISTINCT FROM 3) THEN
        PERFORM pg_notify('ocrmp_ready', coalesce(NEW.document_source, ''));
    END IF;
    RETURN NULL;
END;
$$;

DROP TRIGGER IF EXISTS ocrmp_notify_ready ON extraction_queue;
CREATE TRIGGER ocrmp_notify_ready
    AFTER INSERT OR UPDATE OF status_id ON extraction_queue
    FOR EACH ROW EXECUTE FUNCTION ocrmp_notify_ready();
