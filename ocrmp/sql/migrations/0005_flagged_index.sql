-- Done documents with flagged pages, which `ocrmp status` counts and `ocrmp review` lists.
-- Finding them without an index reads and decompresses the ocr_result of every done row to
-- look for the few flagged ones; the partial index holds only those, so counting and
-- listing them cost what the flagged rows cost, however many rows are done.

-- What "a document with flagged pages" means, in one place: the index predicate and the
-- queries that use it call this, so they cannot drift apart. Rows written before pages were
-- flagged have no `flagged_pages` key, and the original table's rows may have no result:
-- both are unflagged.
CREATE OR REPLACE FUNCTION ocrmp_has_flagged_pages(result jsonb) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT jsonb_typeof(result -> 'flagged_pages') = 'array'
           AND result -> 'flagged_pages' <> '[]'::jsonb
$$;

CREATE INDEX IF NOT EXISTS extraction_queue_ocr_flagged
    ON extraction_queue (document_source, ocr_completed_at DESC NULLS LAST)
    WHERE status_id = 5 AND ocrmp_has_flagged_pages(ocr_result);
