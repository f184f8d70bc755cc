"""`bench.system`'s stage latencies come from the workflow's audit trail: each timed step ends
when the workflow entered the stage after it, however late the applicant's poll saw it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx

from bench.system import Run, stage_timings

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def at(seconds: float) -> str:
    return (T0 + timedelta(seconds=seconds)).isoformat()


def ops_answering(audit: list[dict]) -> httpx.Client:
    def handler(request: httpx.Request) -> httpx.Response:
        assert request.url.path == "/v1/ops/applications/app_1"
        return httpx.Response(200, json={"audit": audit})

    return httpx.Client(base_url="http://api", transport=httpx.MockTransport(handler))


def test_each_step_ends_when_its_next_stage_was_entered() -> None:
    audit = [
        {"seq": 1, "status": "AWAITING_DOCUMENTS", "at": at(0.1)},
        {"seq": 2, "status": "VERIFYING_IDENTITY", "at": at(2.1)},
        {"seq": 3, "status": "AWAITING_CARRIER_AUTH", "at": at(3.6)},
        {"seq": 5, "status": "OFFERED", "at": at(5.4)},
        {"seq": 4, "status": "DECIDING", "at": at(5.0)},
        # a stage entered again later does not move the first time it was entered
        {"seq": 6, "status": "AWAITING_CARRIER_AUTH", "at": at(9.0)},
        {"seq": 7, "status": "DISBURSED", "at": at(8.25)},
    ]
    steps = {
        "identity": T0 + timedelta(seconds=2.0),
        "decision": T0 + timedelta(seconds=4.9),
        "payout": T0 + timedelta(seconds=7.0),
    }
    run = Run("app_1", start_s=0.05, began=T0, steps=steps)
    with ops_answering(audit) as ops:
        timings = stage_timings(ops, run)
    assert timings == {
        "start": 0.05,
        "identity": 1.6,
        "decision": 0.5,
        "payout": 1.25,
        "total": 8.25,
    }
