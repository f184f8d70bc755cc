"""Stage 5, decisioning input: the credit bureau report; a pre-approved customer's report is
reused while it is within its freshness window (no second inquiry)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Engine
from temporalio import activity

from activities.vendor_errors import vendor_call
from domain.decision import BureauInput, BureauReport
from domain.naming import ActivityName
from store import precredit, queries
from vendors.bureau import BureauClient


class BureauActivities:
    def __init__(self, client: BureauClient, engine: Engine | None = None) -> None:
        """With `engine`, a fresh report from a pre-approval is reused."""
        self._client = client
        self._engine = engine

    @activity.defn(name=ActivityName.BUREAU_FETCH_REPORT)
    @vendor_call
    async def fetch_report(self, inp: BureauInput) -> BureauReport:
        if self._engine is not None:
            known = await queries.in_thread(
                self._engine, precredit.fresh_bureau, inp.applicant.id_number, datetime.now(UTC)
            )
            if known is not None:
                activity.logger.info("bureau report for %s: pre-credit's", inp.application_id)
                return BureauReport.model_validate(known)
        report = await self._client.fetch_report(inp.applicant.full_name, inp.applicant.id_number)
        activity.logger.info(
            "bureau report for %s: record %s", inp.application_id, report.has_record
        )
        return report
