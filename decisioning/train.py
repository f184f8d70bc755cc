"""Scorecard training: WOE binning (optbinning) and a logistic regression on the WOE values,
exported as a points table (`decisioning.scorecard`).

    python -m decisioning.train --csv data/credit/germancredit.csv --target creditability \\
        --bad bad --out /tmp/german.json [--cv 5]

The binning and the regression are fitted together by `fit_scorecard`; `cross_validate` refits
both inside every fold, so the held-out AUC and KS are not flattered by bins that saw the test
rows.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from optbinning import BinningProcess
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score, roc_curve
from sklearn.model_selection import StratifiedKFold

from decisioning.scorecard import Bin, Characteristic, Scaling, Scorecard

DEFAULT_SCALING = Scaling(pdo=20, base_score=600, base_odds=50)
MIN_IV = 0.02


def _numeric(series: pd.Series) -> bool:
    return bool(pd.api.types.is_numeric_dtype(series)) and not pd.api.types.is_bool_dtype(series)


def _bins(optb: object, kind: str, factor: float, coefficient: float) -> list[Bin]:
    with _optbinning_on_pandas3():
        table = optb.binning_table.build()  # type: ignore[attr-defined]
    rows = table[table.index != "Totals"]
    splits = list(optb.splits)  # type: ignore[attr-defined]
    bins: list[Bin] = []
    valued = [r for _, r in rows.iterrows() if not _named(r["Bin"], "Special", "Missing")]
    for i, row in enumerate(valued):
        woe = float(row["WoE"])
        common = {
            # WOE is ln(good share / bad share); the regression's coefficient on it is negative
            # for the bad event, so -coefficient x WOE x factor is the points toward "good".
            "points": round(-coefficient * woe * factor, 1),
            "woe": round(woe, 6),
            "count": int(row["Count"]),
            "bad_rate": round(float(row["Event rate"]), 6),
        }
        if kind == "numeric":
            lower = float(splits[i - 1]) if i > 0 else None
            upper = float(splits[i]) if i < len(splits) else None
            bins.append(Bin(lower=lower, upper=upper, **common))
        else:
            bins.append(Bin(categories=[str(c) for c in splits[i]], **common))
    missing = next(r for _, r in rows.iterrows() if _named(r["Bin"], "Missing"))
    bins.append(
        Bin(
            missing=True,
            points=round(-coefficient * float(missing["WoE"]) * factor, 1),
            woe=round(float(missing["WoE"]), 6),
            count=int(missing["Count"]),
        )
    )
    return bins


def _named(label: object, *names: str) -> bool:
    # Categorical bins are labelled by arrays of categories, the extra bins by plain strings.
    return isinstance(label, str) and label in names


@contextmanager
def _optbinning_on_pandas3() -> Iterator[None]:
    # optbinning 1.0 writes bin labels into a float column of its statistics tables, which
    # pandas 3 deprecates with a warning; the values it computes are unaffected.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Setting an item of incompatible dtype")
        yield


def fit_scorecard(
    frame: pd.DataFrame,
    bad: np.ndarray,
    features: Sequence[str],
    *,
    name: str = "scorecard",
    scaling: Scaling = DEFAULT_SCALING,
    min_iv: float = MIN_IV,
) -> Scorecard:
    """Bin every feature, keep those with information value >= `min_iv`, fit the regression
    on their WOE and scale it into points."""
    features = list(features)
    categorical = [f for f in features if not _numeric(frame[f])]
    process = BinningProcess(
        features,
        categorical_variables=categorical,
        selection_criteria={"iv": {"min": min_iv}},
    )
    with _optbinning_on_pandas3():
        process.fit(frame[features], bad)
    kept = [str(n) for n in process.get_support(names=True)]
    with _optbinning_on_pandas3():
        woe = process.transform(frame[features], metric="woe")[kept]
    model = LogisticRegression(max_iter=2000)
    model.fit(woe.to_numpy(), bad)
    factor = scaling.pdo / math.log(2)
    offset = scaling.base_score - factor * math.log(scaling.base_odds)
    intercept = float(model.intercept_[0])
    characteristics = []
    for feature, coefficient in zip(kept, model.coef_[0], strict=True):
        kind = "categorical" if feature in categorical else "numeric"
        optb = process.get_binned_variable(feature)
        characteristics.append(
            Characteristic(
                name=feature,
                kind=kind,
                coefficient=round(float(coefficient), 6),
                bins=_bins(optb, kind, factor, float(coefficient)),
            )
        )
    return Scorecard(
        name=name,
        scaling=scaling,
        base_points=round(offset - factor * intercept, 1),
        intercept=round(intercept, 6),
        characteristics=characteristics,
        training={
            "rows": len(frame),
            "bad_rate": round(float(np.mean(bad)), 6),
            "features_offered": features,
            "min_iv": min_iv,
        },
    )


def score_frame(card: Scorecard, frame: pd.DataFrame) -> np.ndarray:
    records = frame.to_dict(orient="records")
    return np.array([card.score({k: _clean(v) for k, v in r.items()}) for r in records])


def _clean(value: object) -> object:
    return None if isinstance(value, float) and math.isnan(value) else value


def ks_statistic(bad: np.ndarray, risk: np.ndarray) -> float:
    """Kolmogorov-Smirnov: the widest gap between the bad and good cumulative distributions."""
    fpr, tpr, _ = roc_curve(bad, risk)
    return float(np.max(tpr - fpr))


@dataclass(frozen=True)
class CvResult:
    auc: list[float]
    ks: list[float]

    @property
    def auc_mean(self) -> float:
        return float(np.mean(self.auc))

    @property
    def ks_mean(self) -> float:
        return float(np.mean(self.ks))


def cross_validate(
    frame: pd.DataFrame,
    bad: np.ndarray,
    features: Sequence[str],
    *,
    folds: int = 5,
    repeats: int = 1,
    seed: int = 0,
    min_iv: float = MIN_IV,
) -> CvResult:
    """Held-out AUC and KS of the exported points table, binning refitted in every fold."""
    aucs, kss = [], []
    for r in range(repeats):
        splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed + r)
        for train, test in splitter.split(frame, bad):
            card = fit_scorecard(frame.iloc[train], bad[train], features, min_iv=min_iv)
            risk = -score_frame(card, frame.iloc[test])
            aucs.append(float(roc_auc_score(bad[test], risk)))
            kss.append(ks_statistic(bad[test], risk))
    return CvResult(aucs, kss)


def load_csv(
    path: Path, target: str, bad_value: str, drop: Sequence[str] = ()
) -> tuple[pd.DataFrame, np.ndarray, list[str]]:
    frame = pd.read_csv(path)
    if target not in frame.columns:
        raise SystemExit(f"{path}: no target column {target!r}")
    bad = (frame[target].astype(str) == bad_value).to_numpy(dtype=int)
    if bad.sum() == 0 or bad.sum() == len(bad):
        raise SystemExit(f"{path}: target {target!r} never or always equals {bad_value!r}")
    features = [c for c in frame.columns if c != target and c not in set(drop)]
    return frame, bad, features


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m decisioning.train",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--csv", type=Path, required=True)
    parser.add_argument("--target", required=True, help="the outcome column")
    parser.add_argument("--bad", default="1", help="the target value that means default")
    parser.add_argument("--drop", default="", help="comma-separated columns that are no features")
    parser.add_argument("--out", type=Path, help="write the points table here (JSON)")
    parser.add_argument("--name", default=None)
    parser.add_argument("--cv", type=int, default=0, help="also report k-fold held-out AUC / KS")
    parser.add_argument("--pdo", type=float, default=DEFAULT_SCALING.pdo)
    parser.add_argument("--base-score", type=float, default=DEFAULT_SCALING.base_score)
    parser.add_argument("--base-odds", type=float, default=DEFAULT_SCALING.base_odds)
    args = parser.parse_args(argv)
    drop = [c for c in args.drop.split(",") if c]
    frame, bad, features = load_csv(args.csv, args.target, args.bad, drop)
    scaling = Scaling(pdo=args.pdo, base_score=args.base_score, base_odds=args.base_odds)
    card = fit_scorecard(frame, bad, features, name=args.name or args.csv.stem, scaling=scaling)
    risk = -score_frame(card, frame)
    print(
        f"{args.csv}: {len(frame)} rows, bad rate {bad.mean():.3f}; "
        f"{len(card.characteristics)} of {len(features)} characteristics kept (IV >= {MIN_IV})"
    )
    print(f"in-sample AUC {roc_auc_score(bad, risk):.3f}, KS {ks_statistic(bad, risk):.3f}")
    if args.cv:
        cv = cross_validate(frame, bad, features, folds=args.cv)
        print(f"{args.cv}-fold held-out AUC {cv.auc_mean:.3f}, KS {cv.ks_mean:.3f}")
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        exported = card.model_copy(update={"training": {**card.training, "csv": str(args.csv)}})
        text = json.dumps(exported.model_dump(mode="json", exclude_none=True), indent=1)
        args.out.write_text(text + "\n")
        print(f"points table written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
