"""Stage 5, decisioning input: the credit bureau report."""

from __future__ import annotations

from temporalio import activity

from activities.vendor_errors import vendor_call
from domain.decision import BureauInput, BureauReport
from domain.naming import ActivityName
from vendors.bureau import BureauClient


class BureauActivities:
    def __init__(self, client: BureauClient) -> None:
        self._client = client

    @activity.defn(name=ActivityName.BUREAU_FETCH_REPORT)
    @vendor_call
    async def fetch_report(self, inp: BureauInput) -> BureauReport:
        report = await self._client.fetch_report(inp.applicant.full_name, inp.applicant.id_number)
        activity.logger.info(
            "bureau report for %s: record %s", inp.application_id, report.has_record
        )
        return report
