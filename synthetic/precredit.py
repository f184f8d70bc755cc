"""Existing customers for the pre-credit batch (预授信): a CSV the bureau simulator knows, with
ID numbers spread over its buckets (good, grey zone, overdue, thin file, multi-lending, court
blacklist), so a batch approves some and declines others. The same seed gives the same file."""

from __future__ import annotations

import csv
import random
from collections.abc import Iterable
from datetime import date, timedelta
from pathlib import Path

from domain.precredit import PreCreditCustomer
from mocks.personas import id_number_in_bucket

FIELDS = list(PreCreditCustomer.model_fields)
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰涛明超秀霞平刚"


def customers(n: int, seed: int = 13, product_code: str = "CASH_LINE") -> list[PreCreditCustomer]:
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        born = date(1975, 1, 1) + timedelta(days=rng.randrange(365 * 25))
        rows.append(
            PreCreditCustomer(
                customer_id=f"cust-{seed}-{i:06d}",
                full_name=rng.choice(SURNAMES) + "".join(rng.choices(GIVEN, k=2)),
                id_number=id_number_in_bucket(
                    rng.randrange(100), born=born, male=rng.random() < 0.5
                ),
                phone="13" + "".join(rng.choices("0123456789", k=9)),
                product_code=product_code,
            )
        )
    return rows


def write_csv(path: Path, rows: Iterable[PreCreditCustomer], raw: Iterable[dict] = ()) -> Path:
    """`raw` rows are written as they are: bad data a batch must survive."""
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=FIELDS)
        writer.writeheader()
        for row in rows:
            writer.writerow(row.model_dump())
        for extra in raw:
            writer.writerow(extra)
    return path
