"""Generators of test and demo data (cards, scenes, applicants, populations)."""
