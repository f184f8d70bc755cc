"""Worker processes: one per task queue."""
