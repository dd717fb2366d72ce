-- Rows written by the original system may hold NULL attempt counters; the claim compares
-- them, so give them the values the original meant (0 attempts of 3) and make those the
-- defaults. No constraint is added: the downloader's inserts stay valid as they are.
UPDATE extraction_queue SET ocr_attempts = 0 WHERE ocr_attempts IS NULL;
UPDATE extraction_queue SET ocr_max_attempts = 3 WHERE ocr_max_attempts IS NULL;
ALTER TABLE extraction_queue ALTER COLUMN ocr_attempts SET DEFAULT 0;
ALTER TABLE extraction_queue ALTER COLUMN ocr_max_attempts SET DEFAULT 3;
