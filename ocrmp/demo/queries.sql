-- Queries only `ocrmp demo` runs, on the demo's dev database.

-- name: delete_under_prefixes
-- Remove the jobs whose documents live under these storage path prefixes (`ocrmp demo
-- --fresh` clearing its own samples, never anyone else's rows).
DELETE FROM extraction_queue
WHERE EXISTS (SELECT 1 FROM unnest(%(prefixes)s::text[]) AS p(prefix)
              WHERE starts_with(supabase_path, p.prefix))
RETURNING id;

-- name: job_statuses
-- Status and page count of the given jobs, for a progress display.
SELECT id, status_id, coalesce(ocr_page_count, 0) AS pages
FROM extraction_queue
WHERE id = ANY(%(ids)s::uuid[]);
