"""Stage 4, carrier authorization: send the SMS code, authorize with it, poll the report.

A wrong code is an answer (the workflow counts attempts). The report is produced
asynchronously: `fetch_report` polls it inside one heartbeating activity, starting at 100 ms and
backing off to 2 s, so a report that is ready in a fraction of a second is picked up in a
fraction of a second (not after a Temporal retry's back-off). A report still pending when the
attempt's poll budget is spent is a retryable REPORT_PENDING failure, and the workflow's retry
policy is the outer loop for reports that take minutes.
"""

from __future__ import annotations

import asyncio
import time

from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.vendor_errors import vendor_call
from domain.carrier import (
    CarrierAuthorizeInput,
    CarrierAuthorizeResult,
    CarrierReport,
    CarrierReportInput,
    CarrierSmsInput,
    CarrierSmsResult,
)
from domain.naming import ActivityName, ErrorType
from vendors.carrier import CarrierClient

FIRST_POLL_PAUSE = 0.1
MAX_POLL_PAUSE = 2.0
POLL_BUDGET_SECONDS = 12.0  # within the call's start-to-close (workflows.options)


class CarrierActivities:
    def __init__(self, client: CarrierClient, poll_budget: float = POLL_BUDGET_SECONDS) -> None:
        self._client = client
        self._poll_budget = poll_budget

    @activity.defn(name=ActivityName.CARRIER_SEND_SMS)
    @vendor_call
    async def send_sms(self, inp: CarrierSmsInput) -> CarrierSmsResult:
        return await self._client.send_sms(inp.phone)

    @activity.defn(name=ActivityName.CARRIER_AUTHORIZE)
    @vendor_call
    async def authorize(self, inp: CarrierAuthorizeInput) -> CarrierAuthorizeResult:
        task_id = await self._client.authorize(
            inp.applicant.phone, inp.applicant.full_name, inp.applicant.id_number, inp.code
        )
        if task_id is None:
            activity.logger.info("carrier code refused for %s", inp.application_id)
            return CarrierAuthorizeResult(accepted=False, detail="WRONG_CODE")
        return CarrierAuthorizeResult(accepted=True, task_id=task_id)

    @activity.defn(name=ActivityName.CARRIER_FETCH_REPORT)
    @vendor_call
    async def fetch_report(self, inp: CarrierReportInput) -> CarrierReport:
        deadline = time.monotonic() + self._poll_budget
        pause = FIRST_POLL_PAUSE
        while True:
            report = await self._client.fetch_report(inp.task_id)
            if report is not None:
                return report
            if time.monotonic() + pause > deadline:
                raise ApplicationError("carrier report not ready", type=ErrorType.REPORT_PENDING)
            activity.heartbeat()
            await asyncio.sleep(pause)
            pause = min(pause * 1.5, MAX_POLL_PAUSE)
