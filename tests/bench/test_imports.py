"""Every benchmark imports: `make check` does not type-check `bench/`, and a bench broken by a
refactor elsewhere would otherwise be found only when someone runs it."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"


@pytest.mark.parametrize("name", sorted(p.stem for p in BENCH.glob("*.py") if p.stem != "__init__"))
def test_bench_module_imports(name: str) -> None:
    importlib.import_module(f"bench.{name}")
