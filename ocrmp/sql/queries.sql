-- Named queries of the JobStore. Each begins with a `-- name: NAME` line.
-- Status ids: 3 ready, 6 OCR running, 5 done, 4 error.

-- name: claim
-- Claim the oldest due jobs for a list of (worker, kind) wishes in one statement. Each
-- kind takes as many jobs as workers asked for it; each job goes to one named worker.
WITH wish AS (
    SELECT w.kind, w.worker_id, row_number() OVER (PARTITION BY w.kind ORDER BY w.n) AS rank
    FROM unnest(%(kinds)s::text[], %(workers)s::text[]) WITH ORDINALITY AS w(kind, worker_id, n)
),
wanted AS (
    SELECT kind, count(*) AS n FROM wish GROUP BY kind
),
picked AS (
    SELECT j.id, j.kind, row_number() OVER (PARTITION BY j.kind ORDER BY j.created_at, j.id) AS rank
    FROM wanted, LATERAL (
        SELECT q.id, q.created_at, wanted.kind
        FROM extraction_queue q
        WHERE q.status_id = 3
          AND q.document_source = wanted.kind
          AND q.ocr_attempts < q.ocr_max_attempts
          AND (q.ocr_next_attempt_at IS NULL OR q.ocr_next_attempt_at <= now())
        ORDER BY q.created_at, q.id
        LIMIT wanted.n
        FOR UPDATE SKIP LOCKED
    ) j
),
assigned AS (
    SELECT picked.id, wish.worker_id
    FROM picked JOIN wish ON wish.kind = picked.kind AND wish.rank = picked.rank
)
UPDATE extraction_queue q
SET status_id = 6,
    ocr_worker_id = assigned.worker_id,
    ocr_started_at = now(),
    ocr_completed_at = NULL,
    ocr_attempts = q.ocr_attempts + 1,
    ocr_lease_expires_at = now() + make_interval(secs => %(lease_s)s)
FROM assigned
WHERE q.id = assigned.id
RETURNING q.id, q.document_number, q.document_source, q.supabase_path,
          q.ocr_worker_id, q.ocr_attempts, q.ocr_max_attempts;

-- name: renew_leases
-- Extend the leases of jobs still held by the given (id, worker, attempt) triples.
UPDATE extraction_queue q
SET ocr_lease_expires_at = now() + make_interval(secs => %(lease_s)s)
FROM unnest(%(ids)s::text[], %(workers)s::text[], %(attempts)s::int[]) AS h(id, worker_id, attempt)
WHERE q.id::text = h.id
  AND q.ocr_worker_id = h.worker_id
  AND q.ocr_attempts = h.attempt
  AND q.status_id = 6
RETURNING q.id;

-- name: complete
UPDATE extraction_queue
SET status_id = 5,
    file_content = %(text)s,
    ocr_result = %(result)s,
    ocr_page_count = %(pages)s,
    ocr_completed_at = now(),
    ocr_lease_expires_at = NULL,
    ocr_next_attempt_at = NULL,
    ocr_error = NULL
WHERE id = %(id)s AND ocr_worker_id = %(worker_id)s AND ocr_attempts = %(attempt)s
  AND status_id = 6
RETURNING id;

-- name: fail
-- Back to 3 after a delay while attempts remain and the error is transient; otherwise 4.
UPDATE extraction_queue
SET status_id = CASE WHEN %(permanent)s OR ocr_attempts >= ocr_max_attempts THEN 4 ELSE 3 END,
    ocr_error = %(error)s,
    ocr_last_error_at = now(),
    ocr_lease_expires_at = NULL,
    ocr_next_attempt_at = CASE WHEN %(permanent)s OR ocr_attempts >= ocr_max_attempts THEN NULL
                               ELSE now() + make_interval(secs => %(retry_in_s)s) END
WHERE id = %(id)s AND ocr_worker_id = %(worker_id)s AND ocr_attempts = %(attempt)s
  AND status_id = 6
RETURNING id, status_id;

-- name: rescue_expired
-- Return running jobs whose lease ran out (their pool is gone) to 3, or to 4 when their
-- attempts are spent. SKIP LOCKED lets every pool run this at once.
WITH stale AS (
    SELECT id FROM extraction_queue
    WHERE status_id = 6
      AND (ocr_lease_expires_at < now()
           OR (ocr_lease_expires_at IS NULL
               AND coalesce(ocr_started_at, created_at) < now() - make_interval(secs => %(unleased_after_s)s)))
    ORDER BY ocr_lease_expires_at NULLS FIRST
    LIMIT %(limit)s
    FOR UPDATE SKIP LOCKED
)
UPDATE extraction_queue q
SET status_id = CASE WHEN q.ocr_attempts >= q.ocr_max_attempts THEN 4 ELSE 3 END,
    ocr_error = 'lease expired: ' || coalesce(q.ocr_worker_id, 'unknown worker')
                || ' stopped renewing it (host or pool died)',
    ocr_last_error_at = now(),
    ocr_lease_expires_at = NULL,
    ocr_next_attempt_at = NULL
FROM stale
WHERE q.id = stale.id
RETURNING q.id, q.status_id, q.document_number;

-- name: skip_plans
-- Survey plans are drawings, not text: they go straight to 5 without OCR.
WITH ready AS (
    SELECT id FROM extraction_queue
    WHERE status_id = 3 AND document_source = 'plan_cadastraux'
    LIMIT %(limit)s
    FOR UPDATE SKIP LOCKED
)
UPDATE extraction_queue q
SET status_id = 5,
    ocr_completed_at = now(),
    ocr_error = NULL,
    ocr_result = '{"skipped": "plan_cadastraux: survey plans are not OCR''d"}'::jsonb
FROM ready
WHERE q.id = ready.id
RETURNING q.id;

-- name: queue_stats
SELECT coalesce(document_source, '') AS kind,
       status_id,
       count(*) AS total,
       count(*) FILTER (WHERE status_id = 3 AND ocr_attempts < ocr_max_attempts
                          AND (ocr_next_attempt_at IS NULL OR ocr_next_attempt_at <= now())) AS claimable,
       count(*) FILTER (WHERE status_id = 3 AND ocr_attempts < ocr_max_attempts
                          AND ocr_next_attempt_at > now()) AS backoff,
       count(*) FILTER (WHERE status_id = 3 AND ocr_attempts >= ocr_max_attempts) AS exhausted,
       count(*) FILTER (WHERE status_id = 6 AND ocr_lease_expires_at < now()) AS stuck,
       extract(epoch FROM now() - min(created_at) FILTER (WHERE status_id = 3)) AS oldest_ready_s
FROM extraction_queue
GROUP BY 1, 2
ORDER BY 1, 2;

-- name: ready_depths
-- Claimable jobs per kind: what the allocation of modes follows.
SELECT document_source AS kind, count(*) AS n
FROM extraction_queue
WHERE status_id = 3 AND ocr_attempts < ocr_max_attempts
  AND (ocr_next_attempt_at IS NULL OR ocr_next_attempt_at <= now())
GROUP BY document_source;

-- name: enqueue
INSERT INTO extraction_queue (document_number, document_source, status_id, supabase_path)
VALUES (%(document_number)s, %(kind)s, 3, %(supabase_path)s)
RETURNING id;

-- name: get_job
SELECT id, document_number, document_source, status_id, supabase_path, file_content,
       ocr_worker_id, ocr_attempts, ocr_max_attempts, ocr_error, ocr_result, ocr_page_count,
       ocr_started_at, ocr_completed_at, ocr_lease_expires_at, ocr_next_attempt_at
FROM extraction_queue
WHERE id = %(id)s;

-- name: unclaim
-- Give back a job its worker never started (the pool is stopping): the attempt is undone.
UPDATE extraction_queue
SET status_id = 3,
    ocr_attempts = greatest(ocr_attempts - 1, 0),
    ocr_lease_expires_at = NULL
WHERE id = %(id)s AND ocr_worker_id = %(worker_id)s AND ocr_attempts = %(attempt)s
  AND status_id = 6
RETURNING id, status_id;
