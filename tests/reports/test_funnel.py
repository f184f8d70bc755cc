"""The funnel from audit trails: each stage's entries split by what became of them, rejections
by reason, the median time spent; the table and the PNG chart."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from reports.funnel import chart_png, funnel, table
from store.reports import Trail

T0 = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


def trail(app_id: str, statuses: list[tuple[str, float]], reasons: list[str] | None = None):
    return Trail(app_id, reasons or [], [(s, T0 + timedelta(seconds=at)) for s, at in statuses])


def test_counts_reasons_and_medians() -> None:
    trails = [
        trail("paid", [("SUBMITTED", 0), ("AWAITING_DOCUMENTS", 1), ("VERIFYING_IDENTITY", 61),
                       ("AWAITING_CARRIER_AUTH", 71), ("DECISIONING", 91), ("OFFERED", 92),
                       ("AWAITING_SIGNATURE", 150), ("PRE_PAYOUT_CHECK", 170),
                       ("DISBURSING", 171), ("DISBURSED", 175)]),
        trail("blacklisted", [("SUBMITTED", 0), ("REJECTED", 2)], ["P001"]),
        trail("gone", [("SUBMITTED", 0), ("AWAITING_DOCUMENTS", 1), ("CANCELLED", 31)]),
        trail("late", [("SUBMITTED", 0), ("AWAITING_DOCUMENTS", 1), ("EXPIRED", 1801)]),
        trail("overdue", [("SUBMITTED", 0), ("AWAITING_DOCUMENTS", 1), ("VERIFYING_IDENTITY", 41),
                          ("AWAITING_CARRIER_AUTH", 50), ("DECISIONING", 70), ("REJECTED", 71)],
              ["R002", "R004"]),
        trail("waiting", [("SUBMITTED", 0), ("AWAITING_DOCUMENTS", 1)]),
    ]  # fmt: skip
    rows = {r.stage: r for r in funnel(trails)}
    submitted, documents = rows["SUBMITTED"], rows["AWAITING_DOCUMENTS"]
    assert (submitted.entered, submitted.passed, submitted.rejected) == (6, 5, 1)
    assert dict(submitted.rejected_by_reason) == {"P001": 1}
    assert (documents.entered, documents.passed, documents.withdrawn) == (5, 2, 1)
    assert (documents.expired, documents.waiting) == (1, 1)
    assert documents.median_seconds == 50  # of 60, 30, 1800, 40
    decisioning = rows["DECISIONING"]
    assert (decisioning.entered, decisioning.passed, decisioning.rejected) == (2, 1, 1)
    assert dict(decisioning.rejected_by_reason) == {"R002": 1, "R004": 1}
    assert rows["DISBURSING"].passed == 1 and rows["MANUAL_REVIEW"].entered == 0
    text = table(funnel(trails))
    line = next(row for row in text.splitlines() if row.startswith("AWAITING_DOCUMENTS"))
    assert line.split()[1:9] == ["5", "2", "0", "1", "1", "0", "1", "50.0"]
    assert "R002×1 R004×1" in text
    png = chart_png(funnel(trails))
    assert png.startswith(b"\x89PNG") and len(png) > 5000
