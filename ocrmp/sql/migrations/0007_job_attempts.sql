-- Every attempt at a job, one row each: when it started and ended, on which worker and
-- host, and what it ended with. A table of ocrmp's own: the upstream's table is unchanged.
CREATE TABLE IF NOT EXISTS ocrmp_job_attempts (
    id            bigserial PRIMARY KEY,
    job_id        uuid NOT NULL,
    attempt       integer NOT NULL,
    worker        text NOT NULL,
    host          text NOT NULL,
    started_at    timestamptz NOT NULL DEFAULT now(),
    ended_at      timestamptz,
    outcome       text,
    error_kind    text,
    error_message text
);
CREATE INDEX IF NOT EXISTS ocrmp_job_attempts_job ON ocrmp_job_attempts (job_id, started_at);
