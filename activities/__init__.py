"""Temporal activities: thin wrappers over vision, vendors, store and contracts."""
