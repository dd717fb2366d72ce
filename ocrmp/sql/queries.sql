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
),
claimed AS (
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
              q.ocr_worker_id, q.ocr_attempts, q.ocr_max_attempts
),
attempt AS (
    -- The attempt's history row, in the statement that starts it.
    INSERT INTO ocrmp_job_attempts (job_id, attempt, worker, host)
    SELECT id, ocr_attempts, ocr_worker_id, split_part(ocr_worker_id, '/', 1) FROM claimed
)
SELECT * FROM claimed;

-- name: claim_one
-- The steady state, one idle worker: the same claim as above in its cheapest form.
WITH claimed AS (
    UPDATE extraction_queue q
    SET status_id = 6,
        ocr_worker_id = %(worker_id)s,
        ocr_started_at = now(),
        ocr_completed_at = NULL,
        ocr_attempts = q.ocr_attempts + 1,
        ocr_lease_expires_at = now() + make_interval(secs => %(lease_s)s)
    WHERE q.id = (
        SELECT id FROM extraction_queue
        WHERE status_id = 3
          AND document_source = %(kind)s
          AND ocr_attempts < ocr_max_attempts
          AND (ocr_next_attempt_at IS NULL OR ocr_next_attempt_at <= now())
        ORDER BY created_at, id
        LIMIT 1
        FOR UPDATE SKIP LOCKED
    )
    RETURNING q.id, q.document_number, q.document_source, q.supabase_path,
              q.ocr_worker_id, q.ocr_attempts, q.ocr_max_attempts
),
attempt AS (
    -- The attempt's history row, in the statement that starts it.
    INSERT INTO ocrmp_job_attempts (job_id, attempt, worker, host)
    SELECT id, ocr_attempts, ocr_worker_id, split_part(ocr_worker_id, '/', 1) FROM claimed
)
SELECT * FROM claimed;

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
WITH done AS (
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
    RETURNING id
),
ended AS (
    UPDATE ocrmp_job_attempts a
    SET ended_at = now(), outcome = 'done'
    FROM done
    WHERE a.job_id = done.id AND a.worker = %(worker_id)s AND a.attempt = %(attempt)s
      AND a.ended_at IS NULL
)
SELECT id FROM done;

-- name: complete_and_claim
-- A worker's completion and its next claim in one statement (one round trip): the job is
-- done as `complete` does it, then, only if that fenced write took, the oldest due job of
-- the worker's mode is claimed for the same worker as `claim_one` does it. One row: whether
-- the completion took, and the next job's columns (NULL when none waits).
WITH done AS (
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
    RETURNING id
),
ended AS (
    UPDATE ocrmp_job_attempts a
    SET ended_at = now(), outcome = 'done'
    FROM done
    WHERE a.job_id = done.id AND a.worker = %(worker_id)s AND a.attempt = %(attempt)s
      AND a.ended_at IS NULL
),
next AS (
    UPDATE extraction_queue q
    SET status_id = 6,
        ocr_worker_id = %(worker_id)s,
        ocr_started_at = now(),
        ocr_completed_at = NULL,
        ocr_attempts = q.ocr_attempts + 1,
        ocr_lease_expires_at = now() + make_interval(secs => %(lease_s)s)
    WHERE q.id = (
        SELECT id FROM extraction_queue
        WHERE status_id = 3
          AND document_source = %(kind)s
          AND ocr_attempts < ocr_max_attempts
          AND (ocr_next_attempt_at IS NULL OR ocr_next_attempt_at <= now())
          AND EXISTS (SELECT 1 FROM done)
        ORDER BY created_at, id
        LIMIT 1
        FOR UPDATE SKIP LOCKED
    )
    RETURNING q.id, q.document_number, q.document_source, q.supabase_path,
              q.ocr_worker_id, q.ocr_attempts, q.ocr_max_attempts
),
attempt AS (
    INSERT INTO ocrmp_job_attempts (job_id, attempt, worker, host)
    SELECT id, ocr_attempts, ocr_worker_id, split_part(ocr_worker_id, '/', 1) FROM next
)
SELECT EXISTS (SELECT 1 FROM done) AS completed, next.*
FROM (VALUES (1)) AS one (n) LEFT JOIN next ON true;

-- name: unclaim_follow_on
-- Give back the job a worker claimed with the completion of job %(id)s when no one will run
-- it: the worker died before writing it into its slot, or the answer to that statement was
-- lost. The claim and the completion were one statement, so that job's ocr_started_at is
-- the completion's ocr_completed_at (now() of the statement): nothing else matches. Never
-- started: its attempt is undone, as `unclaim` does.
WITH released AS (
    UPDATE extraction_queue q
    SET status_id = 3,
        ocr_attempts = greatest(q.ocr_attempts - 1, 0),
        ocr_lease_expires_at = NULL
    FROM extraction_queue done
    WHERE done.id = %(id)s AND done.ocr_worker_id = %(worker_id)s
      AND done.ocr_attempts = %(attempt)s AND done.status_id = 5
      AND q.status_id = 6 AND q.ocr_worker_id = %(worker_id)s
      AND q.ocr_started_at = done.ocr_completed_at AND q.id <> done.id
    RETURNING q.id, q.document_number, q.status_id
),
ended AS (
    UPDATE ocrmp_job_attempts a
    SET ended_at = now(), outcome = 'released',
        error_message = %(worker_id)s::text || ' ended before starting it'
    FROM released
    WHERE a.job_id = released.id AND a.worker = %(worker_id)s AND a.ended_at IS NULL
)
SELECT id, document_number, status_id FROM released;

-- name: fail
-- Back to 3 after a delay while attempts remain and the error is transient; otherwise 4.
WITH failed AS (
    UPDATE extraction_queue
    SET status_id = CASE WHEN %(permanent)s OR ocr_attempts >= ocr_max_attempts THEN 4 ELSE 3 END,
        ocr_error = %(error)s,
        ocr_last_error_at = now(),
        ocr_lease_expires_at = NULL,
        ocr_next_attempt_at = CASE WHEN %(permanent)s OR ocr_attempts >= ocr_max_attempts
                                   THEN NULL
                                   ELSE now() + make_interval(secs => %(retry_in_s)s) END
    WHERE id = %(id)s AND ocr_worker_id = %(worker_id)s AND ocr_attempts = %(attempt)s
      AND status_id = 6
    RETURNING id, status_id
),
ended AS (
    UPDATE ocrmp_job_attempts a
    SET ended_at = now(),
        outcome = CASE WHEN failed.status_id = 4 THEN 'failed' ELSE 'retry' END,
        error_kind = %(error_kind)s, error_message = %(error)s
    FROM failed
    WHERE a.job_id = failed.id AND a.worker = %(worker_id)s AND a.attempt = %(attempt)s
      AND a.ended_at IS NULL
)
SELECT id, status_id FROM failed;

-- name: rescue_expired
-- Return running jobs whose lease ran out (their pool is gone) to 3. The pool's death is
-- not the document's doing: the attempt is given back (ocr_attempts - 1), at most
-- ocr_max_attempts times per job (ocr_attempts_returned); past that the attempt counts and
-- a job whose attempts are spent goes to 4. SKIP LOCKED lets every pool run this at once.
WITH stale AS (
    SELECT id FROM extraction_queue
    WHERE status_id = 6
      AND (ocr_lease_expires_at < now()
           OR (ocr_lease_expires_at IS NULL
               AND coalesce(ocr_started_at, created_at) < now() - make_interval(secs => %(unleased_after_s)s)))
    ORDER BY ocr_lease_expires_at NULLS FIRST
    LIMIT %(limit)s
    FOR UPDATE SKIP LOCKED
),
verdict AS (
    SELECT q.id, q.ocr_attempts_returned < q.ocr_max_attempts AS gives_back
    FROM extraction_queue q JOIN stale ON stale.id = q.id
),
rescued AS (
    UPDATE extraction_queue q
    SET status_id = CASE WHEN NOT v.gives_back AND q.ocr_attempts >= q.ocr_max_attempts THEN 4
                         ELSE 3 END,
        ocr_attempts = CASE WHEN v.gives_back THEN greatest(q.ocr_attempts - 1, 0)
                            ELSE q.ocr_attempts END,
        ocr_attempts_returned = q.ocr_attempts_returned
                                + CASE WHEN v.gives_back THEN 1 ELSE 0 END,
        ocr_error = 'lease expired: ' || coalesce(q.ocr_worker_id, 'unknown worker')
                    || ' stopped renewing it (host or pool died)'
                    || CASE WHEN v.gives_back THEN '; attempt given back' ELSE '' END,
        ocr_last_error_at = now(),
        ocr_lease_expires_at = NULL,
        ocr_next_attempt_at = NULL
    FROM verdict v
    WHERE q.id = v.id
    RETURNING q.id, q.status_id, q.document_number, q.ocr_error,
              v.gives_back AS attempt_given_back
),
ended AS (
    UPDATE ocrmp_job_attempts a
    SET ended_at = now(),
        outcome = CASE WHEN r.attempt_given_back THEN 'released'
                       WHEN r.status_id = 4 THEN 'failed' ELSE 'retry' END,
        error_message = r.ocr_error
    FROM rescued r
    WHERE a.job_id = r.id AND a.ended_at IS NULL
)
SELECT id, status_id, document_number, attempt_given_back FROM rescued;

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
-- Rows per kind and status, and the claim's view of the ready rows and the running ones.
-- The totals come from the narrow index extraction_queue_ocr_kind_status (an index-only
-- scan: the heap of a million rows is not read); only the ready and running rows, which
-- the partial indexes find, are read for their details.
WITH totals AS (
    SELECT coalesce(document_source, '') AS kind, status_id, count(*) AS total
    FROM extraction_queue
    GROUP BY 1, 2
),
ready AS (
    SELECT coalesce(document_source, '') AS kind,
           count(*) FILTER (WHERE ocr_attempts < ocr_max_attempts
                              AND (ocr_next_attempt_at IS NULL OR ocr_next_attempt_at <= now())) AS claimable,
           count(*) FILTER (WHERE ocr_attempts < ocr_max_attempts
                              AND ocr_next_attempt_at > now()) AS backoff,
           count(*) FILTER (WHERE ocr_attempts >= ocr_max_attempts) AS exhausted,
           extract(epoch FROM now() - min(created_at)) AS oldest_ready_s
    FROM extraction_queue
    WHERE status_id = 3
    GROUP BY 1
),
running AS (
    SELECT coalesce(document_source, '') AS kind,
           count(*) FILTER (WHERE ocr_lease_expires_at < now()) AS stuck
    FROM extraction_queue
    WHERE status_id = 6
    GROUP BY 1
)
SELECT t.kind, t.status_id, t.total,
       CASE WHEN t.status_id = 3 THEN r.claimable ELSE 0 END AS claimable,
       CASE WHEN t.status_id = 3 THEN r.backoff ELSE 0 END AS backoff,
       CASE WHEN t.status_id = 3 THEN r.exhausted ELSE 0 END AS exhausted,
       CASE WHEN t.status_id = 6 THEN s.stuck ELSE 0 END AS stuck,
       CASE WHEN t.status_id = 3 THEN r.oldest_ready_s END AS oldest_ready_s
FROM totals t
LEFT JOIN ready r ON r.kind = t.kind
LEFT JOIN running s ON s.kind = t.kind
ORDER BY 1, 2;

-- name: flagged_counts
-- Done documents with flagged pages: per kind (reason NULL), and per kind and reason (a
-- document flagged for two reasons counts under both). The partial index
-- extraction_queue_ocr_flagged serves it: only flagged rows are read.
WITH flagged AS (
    SELECT coalesce(document_source, '') AS kind, ocr_result -> 'flags' AS flags
    FROM extraction_queue
    WHERE status_id = 5 AND ocrmp_has_flagged_pages(ocr_result)
)
SELECT kind, NULL::text AS reason, count(*) AS documents
FROM flagged
GROUP BY kind
UNION ALL
SELECT kind, reason, count(*) AS documents
FROM flagged,
     jsonb_object_keys(CASE jsonb_typeof(flags) WHEN 'object' THEN flags ELSE '{}' END) AS reason
GROUP BY kind, reason
ORDER BY kind, reason NULLS FIRST;

-- name: flagged_documents
-- The newest done documents with flagged pages (of one kind, with any of some reasons, when
-- asked), each with its flagged pages and their reasons. The results, page text included,
-- are read only for the rows listed; the pages come from `flagged_pages`, their reasons from
-- the page's entry in `page_results` (page n is element n - 1).
WITH listed AS (
    SELECT id, document_number, document_source, ocr_completed_at, ocr_result
    FROM extraction_queue
    WHERE status_id = 5 AND ocrmp_has_flagged_pages(ocr_result)
      AND (%(kind)s::text IS NULL OR document_source = %(kind)s::text)
      AND (%(flags)s::text[] IS NULL OR ocr_result -> 'flags' ?| %(flags)s::text[])
    ORDER BY ocr_completed_at DESC NULLS LAST, id
    LIMIT %(limit)s
)
SELECT l.id::text AS id, l.document_number, l.document_source AS kind, l.ocr_completed_at,
       (SELECT jsonb_agg(jsonb_build_object(
                   'page', page,
                   'flags', CASE jsonb_typeof(page) WHEN 'number' THEN
                                CASE WHEN page::numeric BETWEEN 1 AND 2147483647
                                     THEN l.ocr_result -> 'page_results'
                                          -> (page::numeric::int - 1) -> 'flags' END END)
                   ORDER BY n)
        FROM jsonb_array_elements(l.ocr_result -> 'flagged_pages') WITH ORDINALITY AS f(page, n)
       ) AS pages
FROM listed l
ORDER BY l.ocr_completed_at DESC NULLS LAST, l.id;

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
-- Give back a job its worker never started, or held when an operator stopped it (stop,
-- restart, reload, ^C): the attempt is undone, as the document did nothing to earn it.
WITH released AS (
    UPDATE extraction_queue
    SET status_id = 3,
        ocr_attempts = greatest(ocr_attempts - 1, 0),
        ocr_lease_expires_at = NULL
    WHERE id = %(id)s AND ocr_worker_id = %(worker_id)s AND ocr_attempts = %(attempt)s
      AND status_id = 6
    RETURNING id, status_id
),
ended AS (
    UPDATE ocrmp_job_attempts a
    SET ended_at = now(), outcome = 'released', error_message = %(reason)s
    FROM released
    WHERE a.job_id = released.id AND a.worker = %(worker_id)s AND a.attempt = %(attempt)s
      AND a.ended_at IS NULL
)
SELECT id, status_id FROM released;

-- name: enqueue_many
-- Many ready rows in one statement, hence one transaction: all are queued or none. Each
-- keeps the sha256 of its document's content.
INSERT INTO extraction_queue (document_number, document_source, status_id, supabase_path,
                              ocr_source_sha256)
SELECT t.document_number, t.kind, 3, t.supabase_path, t.sha256
FROM unnest(%(numbers)s::text[], %(kinds)s::text[], %(paths)s::text[], %(shas)s::text[])
     WITH ORDINALITY AS t(document_number, kind, supabase_path, sha256, n)
ORDER BY t.n
RETURNING id;

-- name: same_content
-- Rows already queued with one of these contents (by sha256), oldest first.
SELECT id::text AS id, document_number, document_source, status_id, ocr_source_sha256 AS sha256
FROM extraction_queue
WHERE ocr_source_sha256 = ANY(%(shas)s::text[])
ORDER BY created_at, id;

-- name: requeue
-- Back to 3 with a fresh attempt budget: errored (4), ready but out of attempts (3),
-- running (6) with an expired lease or none for a long time, and done (5) when asked for
-- another reading; a 6 with a live lease is running and never moves. SKIP LOCKED: a row a
-- pool is writing right now (completing, rescuing) is left to that pool. A dry run
-- executes this and rolls it back.
WITH picked AS (
    SELECT id, status_id AS old_status, ocr_error AS old_error, ocr_attempts AS old_attempts
    FROM extraction_queue
    WHERE ((%(errored)s AND status_id = 4)
           OR (%(done)s AND status_id = 5)
           OR (%(exhausted)s AND status_id = 3
               AND (ocr_attempts IS NULL OR ocr_max_attempts IS NULL
                    OR ocr_attempts >= ocr_max_attempts))
           OR (%(stuck)s AND status_id = 6
               AND (ocr_lease_expires_at < now()
                    OR (ocr_lease_expires_at IS NULL
                        AND coalesce(ocr_started_at, created_at)
                            < now() - make_interval(secs => %(unleased_after_s)s)))))
      AND (%(ids)s::text[] IS NULL OR id::text = ANY(%(ids)s::text[]))
      AND (%(kind)s::text IS NULL OR document_source = %(kind)s::text)
      AND (%(error)s::text IS NULL
           OR strpos(lower(coalesce(ocr_error, '')), lower(%(error)s::text)) > 0)
    FOR UPDATE SKIP LOCKED
),
moved AS (
    UPDATE extraction_queue q
    SET status_id = 3,
        ocr_attempts = 0,
        ocr_attempts_returned = 0,
        ocr_max_attempts = coalesce(q.ocr_max_attempts, 3),
        ocr_error = NULL,
        ocr_next_attempt_at = NULL,
        ocr_lease_expires_at = NULL,
        ocr_worker_id = NULL,
        ocr_started_at = NULL,
        ocr_completed_at = NULL
    FROM picked
    WHERE q.id = picked.id
    RETURNING q.id, q.document_number, q.document_source,
              picked.old_status AS status_id, picked.old_error AS ocr_error,
              picked.old_attempts AS ocr_attempts
),
ended AS (
    -- A stuck running job's attempt ends here: given back by hand.
    UPDATE ocrmp_job_attempts a
    SET ended_at = now(), outcome = 'released', error_message = 'requeued by hand'
    FROM moved
    WHERE a.job_id = moved.id AND moved.status_id = 6 AND a.ended_at IS NULL
)
SELECT id::text AS id, document_number, document_source, status_id, ocr_error, ocr_attempts
FROM moved;

-- name: schema_facts
-- What `db check` verifies, read from the catalogs: safe on a database with no schema.
SELECT to_regclass('extraction_queue') IS NOT NULL AS has_queue,
       to_regclass('extraction_status') IS NOT NULL AS has_status_table,
       ARRAY(SELECT a.attname::text FROM pg_attribute a
             WHERE a.attrelid = to_regclass('extraction_queue')
               AND a.attnum > 0 AND NOT a.attisdropped) AS columns,
       (SELECT t.tgenabled::text FROM pg_trigger t
        WHERE t.tgrelid = to_regclass('extraction_queue')
          AND t.tgname = 'ocrmp_notify_ready') AS trigger_state,
       (SELECT i.indisvalid AND i.indpred IS NOT NULL FROM pg_index i
        WHERE i.indexrelid = to_regclass('extraction_queue_ocr_ready_order')
          AND i.indrelid = to_regclass('extraction_queue')) AS claim_index_ok;

-- name: status_names
SELECT id, name FROM extraction_status ORDER BY id;

-- name: ready_reasons
-- Every ready row sorted by the first reason the claim passes it over (NULL: claimable),
-- in the claim's own terms: kind served, attempts left, backoff over.
WITH ready AS (
    SELECT id, created_at, document_source, ocr_next_attempt_at,
           CASE
               WHEN document_source IS NULL
                    OR document_source NOT IN ('index', 'acte', 'plan_cadastraux')
                   THEN 'unknown_kind'
               WHEN document_source = 'plan_cadastraux' THEN 'plan'
               WHEN ocr_attempts IS NULL OR ocr_max_attempts IS NULL THEN 'null_attempts'
               WHEN ocr_attempts >= ocr_max_attempts THEN 'exhausted'
               WHEN ocr_next_attempt_at > now() THEN 'backoff'
               WHEN supabase_path IS NULL OR btrim(supabase_path) = '' THEN 'missing_path'
           END AS reason
    FROM extraction_queue
    WHERE status_id = 3
)
SELECT coalesce(reason, 'claimable') AS reason,
       count(*) AS n,
       (array_agg(id::text ORDER BY created_at, id))[1:%(examples)s] AS examples,
       (array_agg(DISTINCT coalesce(document_source, 'NULL')))[1:%(examples)s] AS kinds,
       min(ocr_next_attempt_at) AS first_due,
       max(ocr_next_attempt_at) AS last_due
FROM ready
GROUP BY 1
ORDER BY 1;

-- name: stalled_jobs
-- Rows no pool is moving: running (6) with an expired lease or none for long, and rows in
-- download (2, the downloader's state) for long.
WITH stalled AS (
    SELECT id, created_at,
           CASE
               WHEN status_id = 6 AND ocr_lease_expires_at < now() THEN 'lease_expired'
               WHEN status_id = 6 AND ocr_lease_expires_at IS NULL
                    AND coalesce(ocr_started_at, created_at)
                        < now() - make_interval(secs => %(unleased_after_s)s) THEN 'unleased'
               WHEN status_id = 2
                    AND created_at < now() - make_interval(secs => %(downloading_after_s)s)
                   THEN 'downloading'
           END AS reason
    FROM extraction_queue
    WHERE status_id IN (2, 6)
)
SELECT reason, count(*) AS n,
       (array_agg(id::text ORDER BY created_at, id))[1:%(examples)s] AS examples
FROM stalled
WHERE reason IS NOT NULL
GROUP BY reason
ORDER BY reason;

-- name: still_held
-- Whether an attempt still holds its job: a job cancelled (or rescued) meanwhile is not.
SELECT EXISTS (
    SELECT 1 FROM extraction_queue
    WHERE id = %(id)s AND ocr_worker_id = %(worker_id)s AND ocr_attempts = %(attempt)s
      AND status_id = 6
) AS held;

-- name: cancel
-- A ready or running job to 4, its error kind `cancelled`; a running one's attempt ends
-- here, and its worker, no longer holding it, stops at its next page. Done and failed jobs
-- are left as they are (the first column says what the job was).
WITH target AS (
    SELECT id, status_id FROM extraction_queue WHERE id = %(id)s FOR UPDATE
),
cancelled AS (
    UPDATE extraction_queue q
    SET status_id = 4,
        ocr_error = %(error)s,
        ocr_last_error_at = now(),
        ocr_lease_expires_at = NULL,
        ocr_next_attempt_at = NULL
    FROM target
    WHERE q.id = target.id AND target.status_id IN (3, 6)
    RETURNING q.id
),
ended AS (
    UPDATE ocrmp_job_attempts a
    SET ended_at = now(), outcome = 'cancelled', error_kind = 'cancelled',
        error_message = %(error)s
    FROM cancelled
    WHERE a.job_id = cancelled.id AND a.ended_at IS NULL
)
SELECT target.status_id AS was, EXISTS (SELECT 1 FROM cancelled) AS cancelled FROM target;

-- name: find_jobs
-- Jobs named by their id or their document number, oldest first.
SELECT id::text AS id
FROM extraction_queue
WHERE id = %(uuid)s::uuid OR document_number = %(key)s
ORDER BY created_at, id
LIMIT %(limit)s;

-- name: job_attempts
-- A job's attempts, oldest first.
SELECT attempt, worker, host, started_at, ended_at, outcome, error_kind, error_message
FROM ocrmp_job_attempts
WHERE job_id = %(id)s
ORDER BY started_at, id;
