"""The web console (`ocrmp web`): the queue, the fleet and the pages to review, in a browser."""
