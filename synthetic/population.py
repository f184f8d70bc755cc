"""The simulated applicant population as a training CSV: every applicant the mocks generate
(`mocks.personas.applicant_population`), described by the scorecard features the policy uses at
run time (`decisioning.facts.scorecard_features`), with the outcome drawn from the hidden risk
model (`bad`), the hidden probability itself (`hidden_pd`, never a feature) and the bureau
bucket (`bucket`, never a feature).

    python -m synthetic.population --n 30000 --out .data/credit/mock_applicants.csv
"""

from __future__ import annotations

import argparse
import csv
import sys
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path

from decisioning.facts import FEATURES, scorecard_features
from domain.carrier import CarrierReport
from domain.decision import BureauReport, DecisionInput
from domain.identity import IdentityOutcome
from domain.products import PRODUCTS
from mocks.personas import GeneratedApplicant, applicant_population, bureau_bucket

NOT_FEATURES = ("bad", "hidden_pd", "bucket", "phone_ending")


def decision_input(person: GeneratedApplicant, index: int = 0) -> DecisionInput:
    """The input stage 5 would get for this applicant after a passed identity check."""
    return DecisionInput(
        application_id=f"gen-{index:06d}",
        product=PRODUCTS["CASH_STD"],
        requested_amount=1_000_000,
        requested_term=12,
        decided_on=datetime(2026, 11, 1, tzinfo=UTC).date(),
        identity=IdentityOutcome(passed=True, age=person.age, liveness_passed=True),
        bureau=BureauReport.model_validate(person.bureau),
        carrier=CarrierReport.model_validate(person.carrier),
    )


def rows(n: int, seed: int) -> Iterator[dict[str, object]]:
    for i, person in enumerate(applicant_population(n, seed)):
        row: dict[str, object] = dict(scorecard_features(decision_input(person, i)))
        row.update(
            bad=int(person.defaulted),
            hidden_pd=round(person.default_probability, 6),
            bucket=bureau_bucket(person.id_number),
            phone_ending=person.phone[-1],
        )
        yield row


def write_csv(path: Path, n: int, seed: int) -> int:
    path.parent.mkdir(parents=True, exist_ok=True)
    count = 0
    with path.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=[*FEATURES, *NOT_FEATURES])
        writer.writeheader()
        for row in rows(n, seed):
            writer.writerow({k: "" if v is None else v for k, v in row.items()})
            count += 1
    return count


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m synthetic.population",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--n", type=int, default=30_000)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--out", type=Path, default=Path(".data/credit/mock_applicants.csv"))
    args = parser.parse_args(argv)
    print(f"{write_csv(args.out, args.n, args.seed)} applicants written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
