"""Reports for operations, computed from the application store (never from Temporal)."""
