"""`ocrmp demo`: sample documents from the synthetic corpus, enqueued, OCR'd by a live pool
started as a user would start it, watched, and scored against their ground truth.

    run.py      the whole demo: database, samples, the pool, the verdict
    samples.py  the sample documents (ocrmp.corpus) and their enqueueing
    display.py  the live view of the pool
    scoring.py  results beside the ground truth
    store.py    the queue, with the demo's own queries (queries.sql)
"""
