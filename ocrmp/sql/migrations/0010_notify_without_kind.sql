-- Wake idle pools with an empty notification: the kind, as the payload, made the
-- upstream's own INSERT fail when document_source held 8,000 bytes or more (NOTIFY's limit),
-- and a listener learns what waits by counting the queue anyway. Identical notifications
-- of one transaction are folded: a bulk insert wakes a listener once.
CREATE OR REPLACE FUNCTION ocrmp_notify_ready() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.status_id = 3 AND (TG_OP = 'INSERT' OR OLD.status_id IS DISTINCT FROM 3) THEN
        PERFORM pg_notify('ocrmp_ready', '');
    END IF;
    RETURN NULL;
END;
$$;
