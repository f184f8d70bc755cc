"""Generators of test, benchmark and demo data (issue 8 moves the existing ones here)."""
