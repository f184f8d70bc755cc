"""Generators of test and demo data: ID cards, photographed scenes, challenge videos, applicant
populations. Used by tests, benchmarks, the demo and the simulators; no production room imports
them."""
