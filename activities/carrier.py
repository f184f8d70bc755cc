"""Stage 4, carrier authorization: send the SMS code, authorize with it, poll the report.

A wrong code is an answer (the workflow counts attempts); a report still being produced is a
retryable REPORT_PENDING failure, so the workflow's retry policy is the poll loop.
"""

from __future__ import annotations

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


class CarrierActivities:
    def __init__(self, client: CarrierClient) -> None:
        self._client = client

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
        report = await self._client.fetch_report(inp.task_id)
        if report is None:
            raise ApplicationError("carrier report not ready", type=ErrorType.REPORT_PENDING)
        return report
