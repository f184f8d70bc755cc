"""Generators of test and demo data."""
