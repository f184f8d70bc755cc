"""The application funnel: per stage, how many applications entered it, passed it, were
rejected in it (by reason code), expired in it, were withdrawn in it, failed or are still
waiting, and the median time spent there. Read from the store's audit trails.

    python -m reports.funnel                  # table of every application in the store
    python -m reports.funnel --png funnel.png --days 7
"""

from __future__ import annotations

import argparse
import io
import statistics
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from domain.enums import ApplicationStatus
from store.reports import Trail

S = ApplicationStatus
STAGES = [
    S.SUBMITTED,
    S.AWAITING_DOCUMENTS,
    S.VERIFYING_IDENTITY,
    S.AWAITING_CARRIER_AUTH,
    S.DECISIONING,
    S.MANUAL_REVIEW,
    S.OFFERED,
    S.AWAITING_SIGNATURE,
    S.PRE_PAYOUT_CHECK,
    S.DISBURSING,
]
_ENDINGS = {
    S.REJECTED: "rejected",
    S.EXPIRED: "expired",
    S.CANCELLED: "withdrawn",
    S.FAILED: "failed",
}


@dataclass
class StageRow:
    stage: str
    entered: int = 0
    passed: int = 0
    rejected: int = 0
    expired: int = 0
    withdrawn: int = 0
    failed: int = 0
    waiting: int = 0
    rejected_by_reason: Counter[str] = field(default_factory=Counter)
    seconds: list[float] = field(default_factory=list, repr=False)

    @property
    def median_seconds(self) -> float | None:
        return statistics.median(self.seconds) if self.seconds else None

    def as_dict(self) -> dict[str, object]:
        return {
            "stage": self.stage,
            "entered": self.entered,
            "passed": self.passed,
            "rejected": self.rejected,
            "rejected_by_reason": dict(self.rejected_by_reason.most_common()),
            "expired": self.expired,
            "withdrawn": self.withdrawn,
            "failed": self.failed,
            "waiting": self.waiting,
            "median_seconds": self.median_seconds,
        }


def funnel(trails: list[Trail]) -> list[StageRow]:
    rows = {stage.value: StageRow(stage.value) for stage in STAGES}
    for trail in trails:
        for i, (status, entered_at) in enumerate(trail.steps):
            row = rows.get(status)
            if row is None:
                continue
            row.entered += 1
            if i + 1 == len(trail.steps):
                row.waiting += 1
                continue
            following, left_at = trail.steps[i + 1]
            row.seconds.append((left_at - entered_at).total_seconds())
            ending = _ENDINGS.get(S(following)) if following in _ENDINGS else None
            if ending is None:
                row.passed += 1
                continue
            setattr(row, ending, getattr(row, ending) + 1)
            if ending == "rejected":
                row.rejected_by_reason.update(trail.reasons or ["(none)"])
    return [rows[stage.value] for stage in STAGES]


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    if seconds < 120:
        return f"{seconds:.1f} s"
    if seconds < 7200:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.1f} h"


def table(rows: list[StageRow]) -> str:
    head = ["stage", "entered", "passed", "rejected", "expired", "withdrawn", "failed"]
    head += ["waiting", "median", "rejected by reason"]
    body = [
        [
            r.stage,
            *(str(v) for v in (r.entered, r.passed, r.rejected, r.expired, r.withdrawn)),
            str(r.failed),
            str(r.waiting),
            _duration(r.median_seconds),
            " ".join(f"{code}×{n}" for code, n in r.rejected_by_reason.most_common()),
        ]
        for r in rows
    ]
    widths = [max(len(line[i]) for line in [head, *body]) for i in range(len(head))]
    lines = ["  ".join(cell.ljust(widths[i]) for i, cell in enumerate(line)) for line in [head]]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(cell.ljust(widths[i]) for i, cell in enumerate(line)) for line in body]
    return "\n".join(line.rstrip() for line in lines)


def chart_png(rows: list[StageRow], title: str = "loanflow funnel") -> bytes:
    """Stacked horizontal bars: each stage's entries split by what became of them."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    parts = [
        ("passed", "#4c9f70"),
        ("waiting", "#9fb7d0"),
        ("rejected", "#d0573f"),
        ("expired", "#e0a030"),
        ("withdrawn", "#8c6bb1"),
        ("failed", "#555555"),
    ]
    shown = [r for r in rows if r.entered]
    labels = [r.stage for r in shown][::-1]
    figure, axes = plt.subplots(figsize=(9, 0.45 * max(len(shown), 4) + 1.2), dpi=100)
    left = [0.0] * len(shown)
    for name, colour in parts:
        values = [float(getattr(r, name)) for r in shown][::-1]
        axes.barh(labels, values, left=left, color=colour, label=name)
        left = [a + b for a, b in zip(left, values, strict=True)]
    for y, row in enumerate(shown[::-1]):
        note = f"{row.entered}  ·  median {_duration(row.median_seconds)}"
        axes.text(row.entered + 0.3, y, note, va="center", fontsize=8)
    axes.set_xlim(0, max([r.entered for r in shown] or [1]) * 1.35)
    axes.set_xlabel("applications")
    axes.set_title(title)
    axes.legend(loc="lower right", fontsize=8)
    figure.tight_layout()
    out = io.BytesIO()
    figure.savefig(out, format="png")
    plt.close(figure)
    return out.getvalue()


def main(argv: list[str] | None = None) -> None:
    from config.settings import get_settings
    from store import reports
    from store.db import make_engine
    from store.queries import in_session

    parser = argparse.ArgumentParser(prog="python -m reports.funnel", description=__doc__)
    parser.add_argument("--days", type=float, help="only applications of the last N days")
    parser.add_argument("--png", help="also write the chart to this file")
    args = parser.parse_args(argv)
    engine = make_engine(get_settings().resolved_database_url)
    since = datetime.now(UTC) - timedelta(days=args.days) if args.days else None
    rows = funnel(in_session(engine, reports.trails, since))
    print(table(rows))
    if args.png:
        with open(args.png, "wb") as out:
            out.write(chart_png(rows))
        print(f"chart: {args.png}")


if __name__ == "__main__":
    main()
