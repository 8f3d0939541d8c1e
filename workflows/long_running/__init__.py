"""Long-running processes: polling an external job with exponential backoff, a batched migration
that tracks progress, an ETL pipeline that passes large data by reference."""
