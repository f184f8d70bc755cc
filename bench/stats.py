"""Percentiles and latency tables shared by the end-to-end benches."""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Mapping


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank on the sorted values (no interpolation: a small run shows a real sample)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def latency_table(
    samples: Mapping[str, list[float]], stages: Iterable[str], quantiles: Iterable[float]
) -> list[str]:
    """A markdown table: one row per stage with samples, n, p50 and the quantiles asked for."""
    qs = list(quantiles)
    head = "| stage | n | p50 s | " + " | ".join(f"p{round(q * 100)} s" for q in qs) + " | max s |"
    rows = [head, "|" + "---|" * (4 + len(qs))]
    for stage in stages:
        values = samples.get(stage, [])
        if not values:
            continue
        cells = [f"{percentile(values, q):.2f}" for q in qs]
        rows.append(f"| {stage} | {len(values)} | {statistics.median(values):.2f} | "
                    + " | ".join(cells) + f" | {max(values):.2f} |")  # fmt: skip
    return rows
