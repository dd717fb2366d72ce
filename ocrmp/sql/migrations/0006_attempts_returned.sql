-- Attempts given back after a lease expiry. A lease runs out when the pool holding the job
-- stopped renewing it (its master was killed, its host died, or it lost the database), not
-- because of the document: the rescue gives the attempt back, as a pool that releases a job
-- it never started does. A worker killed for memory or time is released by its living
-- master and its attempt counts. This counter bounds the give-backs (at most
-- ocr_max_attempts), so a document that takes whole hosts down still ends in 4.
-- A column with a constant default: no table rewrite, and the upstream's inserts stay valid.
ALTER TABLE extraction_queue ADD COLUMN IF NOT EXISTS ocr_attempts_returned integer NOT NULL DEFAULT 0;
