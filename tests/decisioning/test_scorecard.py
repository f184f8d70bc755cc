"""Scorecard points tables: evaluation by bin, the scaling convention, and the training command
(WOE binning + logistic regression) from a CSV to a table the policy loads."""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from decisioning.facts import FEATURES, scorecard_features
from decisioning.loader import load_policy
from decisioning.scorecard import Bin, Characteristic, Scaling, Scorecard
from decisioning.train import cross_validate, fit_scorecard, main, score_frame
from synthetic.population import NOT_FEATURES, write_csv
from tests.decisioning.conftest import DEFAULT_POLICY, make_input

ROOT = Path(__file__).resolve().parents[2]
GERMAN = ROOT / "data" / "credit" / "germancredit.csv"

CARD = Scorecard(
    name="test",
    scaling=Scaling(pdo=20, base_score=600, base_odds=50),
    base_points=500,
    characteristics=[
        Characteristic(
            name="bureau_score",
            kind="numeric",
            bins=[
                Bin(upper=600, points=-20),
                Bin(lower=600, upper=700, points=10),
                Bin(lower=700, points=40),
                Bin(missing=True, points=-5),
            ],
        ),
        Characteristic(
            name="purpose",
            kind="categorical",
            bins=[
                Bin(categories=["car", "home"], points=7),
                Bin(categories=["travel"], points=-3),
                Bin(missing=True, points=0),
            ],
        ),
    ],
)


@pytest.mark.parametrize(
    ("values", "score"),
    [
        ({"bureau_score": 599.99, "purpose": "car"}, 487),
        ({"bureau_score": 600, "purpose": "home"}, 517),  # lower bounds are inclusive
        ({"bureau_score": 700, "purpose": "travel"}, 537),
        ({"bureau_score": None, "purpose": "boat"}, 495),  # missing and unseen: missing bins
        ({}, 495),
        ({"bureau_score": float("nan")}, 495),
    ],
)
def test_score_is_base_points_plus_the_points_of_each_bin(values: dict, score: int) -> None:
    assert CARD.score(values) == score
    assert CARD.points(values)["bureau_score"] + CARD.points(values)["purpose"] == score - 500


def test_scaling_doubles_the_odds_every_pdo_points() -> None:
    at_base = CARD.bad_probability(600)
    assert at_base == pytest.approx(1 / 51)
    odds = lambda p: (1 - p) / p  # noqa: E731
    assert odds(CARD.bad_probability(620)) == pytest.approx(2 * odds(at_base))
    assert odds(CARD.bad_probability(560)) == pytest.approx(odds(at_base) / 4)


def test_bins_must_cover_every_value() -> None:
    with pytest.raises(ValueError, match="contiguous"):
        Characteristic(
            name="x",
            kind="numeric",
            bins=[Bin(upper=1, points=0), Bin(lower=2, points=1), Bin(missing=True, points=0)],
        )
    with pytest.raises(ValueError, match="-inf to \\+inf"):
        Characteristic(
            name="x",
            kind="numeric",
            bins=[
                Bin(lower=0, upper=1, points=0),
                Bin(lower=1, points=1),
                Bin(missing=True, points=0),
            ],
        )
    with pytest.raises(ValueError, match="missing bin"):
        Characteristic(
            name="x", kind="numeric", bins=[Bin(upper=1, points=0), Bin(lower=1, points=1)]
        )


def test_the_runtime_features_are_the_ones_declared() -> None:
    assert tuple(scorecard_features(make_input())) == FEATURES
    thin = scorecard_features(
        make_input(bureau={"has_record": False, "score": None}, no_carrier=True)
    )
    assert thin["bureau_score"] is None and thin["months_on_network"] is None


def test_fitted_points_follow_the_risk_in_the_data() -> None:
    rng = np.random.default_rng(7)
    n = 4000
    x = rng.uniform(0, 100, n)
    noise = rng.uniform(0, 100, n)
    bad = (rng.uniform(size=n) < 1 / (1 + np.exp(-(x - 60) / 10))).astype(int)
    frame = pd.DataFrame({"utilisation": x, "noise": noise})
    card = fit_scorecard(frame, bad, ["utilisation", "noise"])
    assert card.features == ["utilisation"]  # the noise has no information value
    points = [b.points for b in card.characteristics[0].bins if not b.missing]
    assert points == sorted(points, reverse=True) and points[0] > points[-1] + 40
    scores = score_frame(card, frame)
    mean_pd = float(np.mean([card.bad_probability(s) for s in scores]))
    assert mean_pd == pytest.approx(bad.mean(), abs=0.05)  # the scaling is calibrated


def test_binning_is_refitted_in_each_fold_and_german_credit_ranks_well() -> None:
    frame = pd.read_csv(GERMAN)
    bad = (frame.pop("creditability") == "bad").to_numpy(dtype=int)
    result = cross_validate(frame, bad, list(frame.columns), folds=3)
    assert len(result.auc) == 3 and len(set(result.auc)) == 3
    assert 0.72 < result.auc_mean < 0.9 and 0.3 < result.ks_mean < 0.7


def test_training_command_exports_a_table_the_policy_loads(tmp_path: Path) -> None:
    csv = tmp_path / "applicants.csv"
    write_csv(csv, 3000, seed=11)
    out = tmp_path / "policy" / "scorecard.json"
    shutil.copytree(DEFAULT_POLICY, out.parent)
    code = main(
        [
            "--csv",
            str(csv),
            "--target",
            "bad",
            "--bad",
            "1",
            "--drop",
            ",".join(c for c in NOT_FEATURES if c != "bad"),
            "--out",
            str(out),
        ]
    )
    assert code == 0
    exported = json.loads(out.read_text())
    assert exported["scaling"] == {
        "pdo": 20.0,
        "base_score": 600.0,
        "base_odds": 50.0,
        "convention": Scaling.model_fields["convention"].default,
    }
    assert "bureau_score" in [c["name"] for c in exported["characteristics"]]
    policy = load_policy(out.parent)
    assert policy.scorecard.features and set(policy.scorecard.features) <= set(FEATURES)
    assert math.isfinite(policy.scorecard.base_points)
