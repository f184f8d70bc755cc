"""Scorecard quality: cross-validated AUC and KS on the Statlog German Credit data (binning
refitted inside every fold), and the default policy's scorecard on the mocks' applicants against
the hidden risk model that drew their outcomes.

    python -m bench.decisioning_scorecard [--repeats 5]

Writes the section `scorecard` of BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import spearmanr
from sklearn.metrics import roc_auc_score

from bench.report import update_section
from decisioning.facts import FEATURES
from decisioning.scorecard import Scorecard
from decisioning.train import cross_validate, fit_scorecard, ks_statistic, score_frame
from synthetic.population import NOT_FEATURES, rows

ROOT = Path(__file__).resolve().parent.parent
GERMAN = ROOT / "data" / "credit" / "germancredit.csv"
SHIPPED = ROOT / "policies" / "2026.11-std" / "scorecard.json"
TRAIN_SEED, TRAIN_N = 2026, 30_000  # the population the shipped scorecard was trained on
HOLDOUT_SEED, HOLDOUT_N = 2027, 20_000
BANDS = [
    (None, 460, "< 460 (reject)"),
    (460, 525, "460-524 (review)"),
    (525, 555, "525-554 D"),
    (555, 585, "555-584 C"),
    (585, 610, "585-609 B"),
    (610, None, ">= 610 A"),
]


def german(repeats: int) -> list[str]:
    frame = pd.read_csv(GERMAN)
    bad = (frame.pop("creditability") == "bad").to_numpy(dtype=int)
    cv = cross_validate(frame, bad, list(frame.columns), folds=5, repeats=repeats)
    card = fit_scorecard(frame, bad, list(frame.columns))
    risk = -score_frame(card, frame)
    print(f"German credit: CV AUC {cv.auc_mean:.3f}, KS {cv.ks_mean:.3f}")
    return [
        f"**Statlog German Credit** (1,000 applicants, 30% bad; `data/credit/germancredit.csv`): "
        f"{repeats} x stratified 5-fold cross-validation, WOE binning (optbinning, IV >= 0.02) "
        "and the logistic regression refitted inside every fold, held-out folds scored with the "
        "exported points table.",
        "",
        "| measure | held-out mean | sd | min | max | published |",
        "|---|---:|---:|---:|---:|---:|",
        f"| AUC | {cv.auc_mean:.3f} | {np.std(cv.auc):.3f} | {min(cv.auc):.3f} | "
        f"{max(cv.auc):.3f} | ~0.77-0.78 |",
        f"| KS | {cv.ks_mean:.3f} | {np.std(cv.ks):.3f} | {min(cv.ks):.3f} | {max(cv.ks):.3f} | |",
        "",
        f"In-sample (all 1,000): AUC {roc_auc_score(bad, risk):.3f}, KS "
        f"{ks_statistic(bad, risk):.3f}, {len(card.characteristics)} of 20 characteristics kept.",
    ]


def population(n: int, seed: int) -> pd.DataFrame:
    return pd.DataFrame(list(rows(n, seed)))


def mocks() -> list[str]:
    card = Scorecard.model_validate(json.loads(SHIPPED.read_text()))
    train = population(TRAIN_N, TRAIN_SEED)
    refit = fit_scorecard(train[list(FEATURES)], train["bad"].to_numpy(), list(FEATURES))
    same = refit.characteristics == card.characteristics and refit.base_points == card.base_points
    cv = cross_validate(train[list(FEATURES)], train["bad"].to_numpy(), list(FEATURES), folds=5)
    hold = population(HOLDOUT_N, HOLDOUT_SEED)
    bad = hold["bad"].to_numpy()
    hold["score"] = score_frame(card, hold[list(FEATURES)])
    hold["card_pd"] = [card.bad_probability(s) for s in hold["score"]]
    auc = roc_auc_score(bad, -hold["score"])
    oracle = roc_auc_score(bad, hold["hidden_pd"])
    bureau = hold["bureau_score"].fillna(hold["bureau_score"].median())
    bureau_auc = roc_auc_score(bad, -bureau)
    rho = spearmanr(hold["score"], hold["hidden_pd"]).statistic
    print(f"mocks: holdout AUC {auc:.3f} vs hidden-risk ceiling {oracle:.3f}")
    lines = [
        f"**The mocks' applicants** (`python -m synthetic.population`: the simulators' "
        f"personas, outcomes drawn from the hidden risk model of `mocks/PERSONAS.md`). The "
        f"shipped `policies/2026.11-std/scorecard.json` was trained on {TRAIN_N:,} of them "
        f"(seed {TRAIN_SEED}, bad rate {train['bad'].mean():.1%}); refitting from that CSV "
        f"reproduces it exactly: {'yes' if same else 'NO'}. 5-fold CV on the training set: "
        f"AUC {cv.auc_mean:.3f}, KS {cv.ks_mean:.3f}.",
        "",
        f"On {HOLDOUT_N:,} fresh applicants (seed {HOLDOUT_SEED}, bad rate {bad.mean():.1%}):",
        "",
        "| ranking by | AUC | KS |",
        "|---|---:|---:|",
        f"| the scorecard | {auc:.3f} | {ks_statistic(bad, -hold['score']):.3f} |",
        f"| the hidden default probability (ceiling) | {oracle:.3f} | "
        f"{ks_statistic(bad, hold['hidden_pd']):.3f} |",
        f"| the bureau's own score alone | {bureau_auc:.3f} | {ks_statistic(bad, -bureau):.3f} |",
        "",
        f"Spearman correlation of score and hidden probability: {rho:.3f}.",
        "",
        "| score band | applicants | observed bad rate | mean hidden PD | scorecard PD |",
        "|---|---:|---:|---:|---:|",
    ]
    for low, high, label in BANDS:
        mask = np.ones(len(hold), dtype=bool)
        if low is not None:
            mask &= hold["score"] >= low
        if high is not None:
            mask &= hold["score"] < high
        part = hold[mask]
        if len(part):
            lines.append(
                f"| {label} | {len(part):,} | {part['bad'].mean():.1%} | "
                f"{part['hidden_pd'].mean():.1%} | {part['card_pd'].mean():.1%} |"
            )
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.decisioning_scorecard")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args(argv)
    assert set(NOT_FEATURES).isdisjoint(FEATURES)
    body = "\n".join(
        [
            *german(args.repeats),
            "",
            *mocks(),
            "",
            "Scaling of every exported table: 600 points at 50:1 good:bad odds, "
            "20 points to double the odds (PDO); higher score = lower risk.",
        ]
    )
    print(body)
    if not args.no_write:
        update_section("scorecard", "Scorecard", body, "python -m bench.decisioning_scorecard")
    return 0


if __name__ == "__main__":
    sys.exit(main())
