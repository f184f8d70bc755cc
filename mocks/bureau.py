"""Credit bureau (征信): one report per request, by ID number."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter
from pydantic import BaseModel, Field

from domain.decision import BureauReport
from mocks.errors import require_id_number
from mocks.personas import bureau_report_for
from mocks.state import StateDep

router = APIRouter(prefix="/bureau/v1", tags=["bureau"])


class ReportRequest(BaseModel):
    name: str = Field(min_length=1, max_length=64)
    id_number: str = Field(min_length=1, max_length=32)


@router.post("/reports")
async def report(body: ReportRequest, state: StateDep) -> BureauReport:
    id_number = require_id_number(body.id_number)
    with state.lock:
        overrides = dict(state.bureau_profiles.get(id_number, {}))
    fields = {**bureau_report_for(id_number, datetime.now(UTC)), **overrides}
    return BureauReport.model_validate(fields)
