"""The Temporal step-pricing bench runs every case against the stack's own dev server and prices
a regular activity above a local one (the first crosses the server twice, the second not)."""

from __future__ import annotations

import argparse
import asyncio

import pytest

from bench import temporal_cost
from bench.temporal_cost import CASES, UNITS, prices, report


def test_prices_are_differences_between_cases_over_the_steps_they_add() -> None:
    costs = {case.name: [(0.010, 0.004)] for case in CASES}
    costs["10 regular activities"] = [(0.110, 0.054)]
    costs["5 queries, then 1 update"] = [(0.035, 0.019)]
    unit = prices(costs)
    assert unit["workflow started and completed"] == pytest.approx((0.010, 0.004))
    assert unit["regular activity"] == pytest.approx((0.010, 0.005))
    assert unit["search-attribute upsert"] == pytest.approx((-0.010, -0.005))
    assert unit["query"] == pytest.approx((0.005, 0.003))
    args = argparse.Namespace(workflows=1, rounds=1)
    text = report(args, {"costs": costs, "walls": {c.name: [1.0] for c in CASES}})
    assert all(f"| {u.name} |" in text for u in UNITS)


@pytest.mark.slow
def test_every_case_runs_on_the_stacks_dev_server(capsys: pytest.CaptureFixture[str]) -> None:
    found: dict = {}

    def run(coro):  # keep the figures as well as printing them
        found.update(asyncio.run(coro))
        return found

    temporal_cost.main(["--workflows", "5", "--rounds", "1", "--no-write"], run=run)
    unit = prices(found["costs"])
    assert unit["regular activity"][0] > 3 * max(unit["local activity"][0], 0.0005)
    assert "| regular activity |" in capsys.readouterr().out
