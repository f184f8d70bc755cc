"""The reliability invariants of DESIGN.md checked on what a run left behind, as a pure function
of the facts (gathered by `bench.chaos`), so the checker itself is tested without a stack.

- lost: the applicant was given an application id, but no workflow runs it, or its execution
  closed without a business outcome (failed, terminated, timed out), or the store has no row;
- stuck: a running application that is not waiting for somebody with a deadline still ahead
  (a transient stage after the run settled, no deadline, a deadline long passed, no answer to
  the status query);
- failing workflow tasks: any workflow (applications and their payout children) whose newest
  workflow task failed or whose pending task is on its third attempt or later;
- duplicate payments: an application with more than one successful payout attempt in the
  gateway simulator's ledger (under its key `payout-{id}` or any other key naming it);
- store mismatches: the store's status differs from the workflow's, or money and status
  disagree (paid but not DISBURSED, DISBURSED with no successful payout).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bench.temporal_facts import WorkflowFacts
from domain.enums import TERMINAL_STATUSES
from domain.naming import application_workflow_id

BUSINESS_CLOSE = frozenset({"COMPLETED", "CONTINUED_AS_NEW"})
DEADLINE_GRACE = timedelta(minutes=2)  # a timer fires a little after its deadline


@dataclass
class ApplicationFacts:
    application_id: str
    store_status: str | None  # None: no row
    live_status: str | None  # the status query; None: no answer
    live_deadline: datetime | None = None


@dataclass
class Verdict:
    applications: int = 0
    lost: list[str] = field(default_factory=list)
    stuck: list[str] = field(default_factory=list)
    failing_tasks: list[str] = field(default_factory=list)
    duplicate_payments: list[str] = field(default_factory=list)
    store_mismatches: list[str] = field(default_factory=list)
    unreplayable: list[str] = field(default_factory=list)
    by_status: dict[str, int] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        return not (self.lost or self.stuck or self.failing_tasks or self.duplicate_payments
                    or self.store_mismatches or self.unreplayable)  # fmt: skip


def check(
    application_ids: list[str],
    apps: dict[str, ApplicationFacts],
    workflows: list[WorkflowFacts],
    ledger: list[dict[str, object]],
    now: datetime,
) -> Verdict:
    verdict = Verdict(applications=len(application_ids))
    by_id = {w.workflow_id: w for w in workflows}
    succeeded: dict[str, int] = {}
    for order in ledger:
        key = str(order["idempotency_key"])
        succeeded[key] = succeeded.get(key, 0) + int(str(order.get("succeeded_attempts", 0)))
    for w in workflows:
        if w.last_task_failed or w.pending_task_attempt >= 3:
            verdict.failing_tasks.append(w.workflow_id)
    for app_id in application_ids:
        fact = apps.get(app_id) or ApplicationFacts(app_id, None, None)
        wf = by_id.get(application_workflow_id(app_id))
        status = fact.live_status or fact.store_status or "UNKNOWN"
        verdict.by_status[status] = verdict.by_status.get(status, 0) + 1
        if wf is None or (wf.execution != "RUNNING" and wf.execution not in BUSINESS_CLOSE) \
                or fact.store_status is None:  # fmt: skip
            verdict.lost.append(app_id)
            continue
        if wf.execution == "RUNNING" and not _waiting(fact, now):
            verdict.stuck.append(app_id)
        # Any key naming the application counts: a second key would be a second payment.
        named = re.compile(rf"(?<![\w]){re.escape(app_id)}(?![\w])")
        paid = sum(n for key, n in succeeded.items() if named.search(key))
        if paid > 1:
            verdict.duplicate_payments.append(app_id)
        if fact.live_status is not None and fact.store_status != fact.live_status:
            verdict.store_mismatches.append(f"{app_id}: store {fact.store_status}, "
                                            f"workflow {fact.live_status}")  # fmt: skip
        elif (paid > 0) != (status == "DISBURSED"):
            verdict.store_mismatches.append(f"{app_id}: {status} with {paid} payouts")
    return verdict


def _waiting(fact: ApplicationFacts, now: datetime) -> bool:
    if fact.live_status is None or fact.live_status in TERMINAL_STATUSES:
        return fact.live_status is not None
    return fact.live_deadline is not None and fact.live_deadline + DEADLINE_GRACE > now
