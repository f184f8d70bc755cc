"""The chaos bench's invariant checker, on hand-made facts: each kind of violation is found and
named, and a healthy run passes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bench.invariants import ApplicationFacts, check
from bench.temporal_facts import WorkflowFacts

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


def running(app_id: str, **kw: object) -> WorkflowFacts:
    return WorkflowFacts(f"loan-application-{app_id}", "RUNNING", **kw)  # type: ignore[arg-type]


def done(app_id: str) -> WorkflowFacts:
    return WorkflowFacts(f"loan-application-{app_id}", "COMPLETED")


def paid(app_id: str, succeeded: int = 1) -> dict[str, object]:
    return {"idempotency_key": f"payout-{app_id}", "succeeded_attempts": succeeded}


def test_a_healthy_run_passes() -> None:
    apps = {
        "a": ApplicationFacts("a", "DISBURSED", "DISBURSED"),
        "b": ApplicationFacts("b", "OFFERED", "OFFERED", NOW + timedelta(days=7)),
        "c": ApplicationFacts("c", "REJECTED", "REJECTED"),
    }
    verdict = check(["a", "b", "c"], apps, [done("a"), running("b"), done("c")], [paid("a")], NOW)
    assert verdict.passed
    assert verdict.by_status == {"DISBURSED": 1, "OFFERED": 1, "REJECTED": 1}


def test_lost_applications() -> None:
    apps = {
        "no-workflow": ApplicationFacts("no-workflow", "AWAITING_DOCUMENTS", None),
        "terminated": ApplicationFacts("terminated", "DECISIONING", None),
        "no-row": ApplicationFacts("no-row", None, "OFFERED", NOW + timedelta(days=1)),
    }
    workflows = [WorkflowFacts("loan-application-terminated", "TERMINATED"), running("no-row")]
    verdict = check(list(apps), apps, workflows, [], NOW)
    assert sorted(verdict.lost) == ["no-row", "no-workflow", "terminated"]


def test_stuck_applications() -> None:
    apps = {
        "transient": ApplicationFacts("transient", "DECISIONING", "DECISIONING"),
        "overdue": ApplicationFacts("overdue", "OFFERED", "OFFERED", NOW - timedelta(hours=1)),
        "silent": ApplicationFacts("silent", "OFFERED", None),
        "waiting": ApplicationFacts("waiting", "MANUAL_REVIEW", "MANUAL_REVIEW",
                                    NOW + timedelta(hours=4)),
    }  # fmt: skip
    verdict = check(list(apps), apps, [running(a) for a in apps], [], NOW)
    assert sorted(verdict.stuck) == ["overdue", "silent", "transient"]


def test_workflow_tasks_failing_for_good() -> None:
    apps = {"a": ApplicationFacts("a", "OFFERED", "OFFERED", NOW + timedelta(days=1))}
    workflows = [
        running("a", last_task_failed=True, task_failures=4),
        WorkflowFacts("payout-b", "RUNNING", pending_task_attempt=5),
        WorkflowFacts("payout-c", "COMPLETED", task_failures=1),  # failed once, then recovered
    ]
    verdict = check(["a"], apps, workflows, [], NOW)
    assert verdict.failing_tasks == ["loan-application-a", "payout-b"]


def test_duplicate_payments_and_money_against_status() -> None:
    apps = {
        "twice": ApplicationFacts("twice", "DISBURSED", "DISBURSED"),
        "unpaid": ApplicationFacts("unpaid", "DISBURSED", "DISBURSED"),
        "paid-cancelled": ApplicationFacts("paid-cancelled", "CANCELLED", "CANCELLED"),
        "two-keys": ApplicationFacts("two-keys", "DISBURSED", "DISBURSED"),
    }
    second_key = {"idempotency_key": "payout-two-keys-card-2", "succeeded_attempts": 1}
    ledger = [paid("twice", 2), paid("paid-cancelled"), paid("two-keys"), second_key]
    verdict = check(list(apps), apps, [done(a) for a in apps], ledger, NOW)
    assert verdict.duplicate_payments == ["twice", "two-keys"]
    assert len(verdict.store_mismatches) == 2
    assert {m.split(":")[0] for m in verdict.store_mismatches} == {"unpaid", "paid-cancelled"}


def test_store_disagreeing_with_the_workflow() -> None:
    apps = {"a": ApplicationFacts("a", "DISBURSING", "DISBURSED")}
    verdict = check(["a"], apps, [done("a")], [paid("a")], NOW)
    assert verdict.store_mismatches == ["a: store DISBURSING, workflow DISBURSED"]
    assert not verdict.passed
