-- Named queries of the web console (`ocrmp web`). Each begins with a `-- name: NAME` line.
-- The queue's counts and flagged counts are the JobStore's own (queue_stats, flagged_counts).

-- name: session
-- The console's filters are optional (`%(x)s IS NULL OR ...`): planned for the values given,
-- an absent filter folds away and the right index is chosen. A generic plan, as the pool's
-- connections use, would plan for every filter at once.
SET plan_cache_mode = force_custom_plan;

-- name: pages_done
-- Pages of the documents done since the start of the `unit` (minute or hour) `span_s`
-- seconds ago, per `unit` (its start, in unix seconds). extraction_queue_ocr_completed
-- serves it; date_trunc (in UTC: buckets start on whole minutes and hours of unix time)
-- groups without arithmetic on every row.
SELECT extract(epoch FROM date_trunc(%(unit)s, ocr_completed_at, 'UTC'))::bigint AS bucket,
       sum(coalesce(ocr_page_count, 0))::bigint AS pages
FROM extraction_queue
WHERE status_id = 5
  AND ocr_completed_at >= date_trunc(%(unit)s, now() - make_interval(secs => %(span_s)s), 'UTC')
GROUP BY date_trunc(%(unit)s, ocr_completed_at, 'UTC')
ORDER BY 1;

-- name: failures
-- Errored documents by the first word of their error (the error kind, when it names one).
SELECT split_part(coalesce(ocr_error, ''), ': ', 1) AS head, count(*) AS documents
FROM extraction_queue
WHERE status_id = 4
GROUP BY 1
ORDER BY 2 DESC, 1;

-- name: now
SELECT extract(epoch FROM now())::float8 AS now;

-- name: jobs
-- One page of the jobs list, newest first, after the keyset (created_at, id) when given.
-- Every filter is optional. The flagged test is the flagged index's own.
SELECT q.id::text AS id, q.document_number, q.document_source AS kind, q.status_id,
       q.ocr_attempts, q.ocr_max_attempts, left(q.ocr_error, 300) AS ocr_error,
       q.created_at, q.ocr_completed_at, q.ocr_page_count,
       CASE WHEN q.status_id = 5 AND ocrmp_has_flagged_pages(q.ocr_result)
            THEN q.ocr_result -> 'flags' END AS flags
FROM extraction_queue q
WHERE (%(status)s::int IS NULL OR q.status_id = %(status)s::int)
  AND (%(kind)s::text IS NULL OR q.document_source = %(kind)s::text)
  AND (%(number)s::text IS NULL OR q.document_number = %(number)s::text)
  AND (%(error_head)s::text IS NULL OR q.ocr_error LIKE %(error_head)s::text || ': %%')
  AND (%(flag)s::text IS NULL
       OR (q.status_id = 5 AND ocrmp_has_flagged_pages(q.ocr_result)
           AND q.ocr_result -> 'flags' ? %(flag)s::text))
  AND (%(after_created)s::timestamptz IS NULL
       OR (q.created_at, q.id) < (%(after_created)s::timestamptz, %(after_id)s::uuid))
ORDER BY q.created_at DESC, q.id DESC
LIMIT %(limit)s;

-- name: job
-- One job whole, with its acceptance when the reading it holds was accepted.
SELECT q.id::text AS id, q.document_number, q.document_source AS kind, q.status_id,
       q.ocr_worker_id, q.ocr_attempts, q.ocr_max_attempts, q.ocr_error, q.ocr_result,
       q.ocr_page_count, q.created_at, q.ocr_started_at, q.ocr_completed_at,
       q.ocr_lease_expires_at, q.ocr_next_attempt_at, q.supabase_path,
       r.accepted_by, r.accepted_at
FROM extraction_queue q
LEFT JOIN ocrmp_reviews r
       ON r.job_id = q.id AND r.completed_at IS NOT DISTINCT FROM q.ocr_completed_at
WHERE q.id = %(id)s::uuid;

-- name: attempts
-- Every attempt at a job, first first.
SELECT attempt, worker, host, started_at, ended_at, outcome, error_kind, error_message
FROM ocrmp_job_attempts
WHERE job_id = %(id)s::uuid
ORDER BY started_at, id;

-- name: to_review
-- Done documents with flagged pages whose reading no one has accepted, oldest (first
-- queued) first: extraction_queue_ocr_flagged_created read backwards, a page at a time.
SELECT q.id::text AS id, q.document_number, q.document_source AS kind, q.created_at,
       q.ocr_completed_at, q.ocr_result -> 'flags' AS flags,
       q.ocr_result -> 'flagged_pages' AS flagged_pages
FROM extraction_queue q
WHERE q.status_id = 5 AND ocrmp_has_flagged_pages(q.ocr_result)
  AND NOT EXISTS (SELECT 1 FROM ocrmp_reviews r
                  WHERE r.job_id = q.id
                    AND r.completed_at IS NOT DISTINCT FROM q.ocr_completed_at)
ORDER BY q.created_at, q.id
LIMIT %(limit)s;

-- name: accept
-- Accept the reading a flagged done document holds now: who, and when. A document no
-- longer done, or not flagged, is not accepted (no row).
INSERT INTO ocrmp_reviews (job_id, completed_at, accepted_by)
SELECT q.id, q.ocr_completed_at, %(by)s
FROM extraction_queue q
WHERE q.id = %(id)s::uuid AND q.status_id = 5 AND ocrmp_has_flagged_pages(q.ocr_result)
ON CONFLICT (job_id) DO UPDATE
    SET completed_at = excluded.completed_at, accepted_by = excluded.accepted_by,
        accepted_at = now()
RETURNING job_id::text AS id;

-- name: cancel
-- An operator's cancel: a ready or done document to 4, its error saying so. A
-- running one is left to its pool (its worker's fenced write would be refused otherwise).
UPDATE extraction_queue
SET status_id = 4,
    ocr_error = %(error)s,
    ocr_last_error_at = now(),
    ocr_lease_expires_at = NULL,
    ocr_next_attempt_at = NULL
WHERE id = %(id)s::uuid AND status_id IN (3, 5)
RETURNING id::text AS id;
