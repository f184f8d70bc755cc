"""The load generator's population: the behaviour mix is kept at any size, the plan is the seed's,
and each behaviour applies as the persona it needs."""

from __future__ import annotations

from collections import Counter

import pytest

from bench.population import DEFAULT_MIX, Behaviour, parse_mix, plan_population


def test_a_small_run_still_shows_the_mix() -> None:
    plans = plan_population(10, seed=1)
    counts = Counter(p.behaviour for p in plans)
    assert sum(counts.values()) == 10
    for behaviour, weight in DEFAULT_MIX.items():
        assert abs(counts[behaviour] - 10 * weight) < 1


def test_the_same_seed_gives_the_same_population() -> None:
    assert plan_population(30, seed=5, rate_per_minute=20) == plan_population(30, 5, None, 20)
    assert plan_population(30, seed=5) != plan_population(30, seed=6)


def test_arrivals_at_a_rate_or_all_at_once() -> None:
    at_once = plan_population(20, seed=2)
    assert {p.arrival_s for p in at_once} == {0.0}
    paced = plan_population(400, seed=2, rate_per_minute=60)
    gaps = [b.arrival_s - a.arrival_s for a, b in zip(paced, paced[1:], strict=False)]
    assert min(gaps) >= 0
    assert sum(gaps) / len(gaps) == pytest.approx(1.0, rel=0.15)


def test_each_applicant_is_a_distinct_person() -> None:
    """Distinct serials across personas: two personas' test applicants with one serial share a
    phone and a bank card."""
    plans = plan_population(50, seed=3)
    assert len({p.serial for p in plans}) == len(plans)
    personas = {p.behaviour: p.persona for p in plans}
    assert personas[Behaviour.REVIEW] == "review"
    assert personas[Behaviour.DECLINE] == "decline"
    assert personas[Behaviour.COMPLETE] == "approve"
    assert {p.expected for p in plans if p.behaviour is Behaviour.WITHDRAW} == {"CANCELLED"}


def test_a_mix_is_parsed_and_refused_when_empty() -> None:
    mix = parse_mix("complete=3, withdraw=1")
    assert mix == {Behaviour.COMPLETE: 3.0, Behaviour.WITHDRAW: 1.0}
    assert {p.behaviour for p in plan_population(8, 0, mix)} == {
        Behaviour.COMPLETE,
        Behaviour.WITHDRAW,
    }
    with pytest.raises(ValueError):
        parse_mix("complete=0")
    with pytest.raises(ValueError):
        parse_mix("sleepwalk=1")
