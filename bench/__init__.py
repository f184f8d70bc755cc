"""Benchmarks: each prints its figures and writes them into its section of BENCHMARKS.md."""
