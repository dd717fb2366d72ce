-- The queue table shared with the upstream downloader, as the original system defined it.
-- Every statement is additive: on a database that already holds the table, nothing of the
-- downloader's is changed; only what is missing is added.

CREATE TABLE IF NOT EXISTS extraction_status (
    id   integer PRIMARY KEY,
    name text NOT NULL
);

INSERT INTO extraction_status (id, name) VALUES
    (1, 'En attente'),
    (2, 'En traitement'),
    (3, 'Complété'),
    (4, 'Erreur'),
    (5, 'Extraction complétée'),
    (6, 'OCR en traitement')
ON CONFLICT (id) DO NOTHING;

CREATE TABLE IF NOT EXISTS extraction_queue (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    document_number text,
    document_source text,
    status_id       integer NOT NULL DEFAULT 1,
    worker_id       text,
    supabase_path   text,
    file_content    text,
    boosted_file_content text,
    created_at      timestamptz NOT NULL DEFAULT now()
);

ALTER TABLE extraction_queue ADD COLUMN IF NOT EXISTS ocr_worker_id     text;
ALTER TABLE extraction_queue ADD COLUMN IF NOT EXISTS ocr_started_at    timestamptz;
ALTER TABLE extraction_queue ADD COLUMN IF NOT EXISTS ocr_completed_at  timestamptz;
ALTER TABLE extraction_queue ADD COLUMN IF NOT EXISTS ocr_attempts      integer NOT NULL DEFAULT 0;
ALTER TABLE extraction_queue ADD COLUMN IF NOT EXISTS ocr_max_attempts  integer NOT NULL DEFAULT 3;
ALTER TABLE extraction_queue ADD COLUMN IF NOT EXISTS ocr_error         text;
ALTER TABLE extraction_queue ADD COLUMN IF NOT EXISTS ocr_last_error_at timestamptz;
