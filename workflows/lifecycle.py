"""How a loan application moves between stages: activity calls, stage entry with its projection
and search attributes, waits with withdrawal and timeout, and the terminal statuses.

The stages themselves are in `workflows/application.py`; business outcomes (rejections,
expiries) end the run through `Finished`, a control-flow exception caught in `run`.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, TypeVar

from pydantic import BaseModel
from temporalio import workflow
from temporalio.common import SearchAttributeUpdate

with workflow.unsafe.imports_passed_through():
    from domain.enums import ApplicationStatus, NextAction
    from domain.models import ProjectionInput
    from domain.naming import ActivityName
    from domain.reasons import ReasonCode, reapply_after
    from workflows import options
    from workflows.options import CallOptions
    from workflows.steps import ApplicantSteps

R = TypeVar("R", bound=BaseModel)

WAITING_FOR = {
    NextAction.UPLOAD_DOCUMENTS: "the applicant's ID card, selfie and liveness video",
    NextAction.AUTHORIZE_CARRIER: "the applicant's carrier SMS code",
    NextAction.AWAIT_REVIEW: "an ops reviewer's outcome",
    NextAction.ACCEPT_OFFER: "the applicant to accept the offer",
    NextAction.SIGN_CONTRACT: "the applicant's e-signature OTP",
    NextAction.PROVIDE_NEW_BANK_CARD: "a new bank card from the applicant",
}


class Finished(Exception):
    """Unwinds the stages once a terminal status has been recorded."""


class ApplicationLifecycle(ApplicantSteps):
    async def _call(
        self, name: str, arg: BaseModel, result: type[R] | None, opts: CallOptions
    ) -> Any:
        summary = f"{self._status.value}: {name}"
        return await options.execute(name, arg, result, opts, self._inp.vision_task_queue, summary)

    async def _enter(
        self,
        status: ApplicationStatus,
        next_action: NextAction,
        event: str,
        timeout: timedelta | None = None,
        **projection: Any,
    ) -> None:
        """Checkpoint for withdrawal, then move to a stage and tell the store and visibility."""
        if self._withdrawn is not None and not status.is_terminal:
            await self._finish(ApplicationStatus.CANCELLED, "WITHDRAWN")
        self._status = status
        self._history.append(status)
        self._set_next(next_action, workflow.now() + timeout if timeout else None)
        self._upsert(options.STATUS_KEY.value_set(status))
        await self._project(event, **projection)

    async def _wait_for(
        self,
        condition: Any,
        timeout: timedelta,
        timeout_event: str | None,
        timeout_status: ApplicationStatus = ApplicationStatus.EXPIRED,
        timeout_reasons: list[ReasonCode] | None = None,
    ) -> bool:
        """Wait for an applicant or reviewer; withdrawal cancels, a timeout ends the run unless
        `timeout_event` is None (then the caller handles it)."""
        try:
            await workflow.wait_condition(
                lambda: bool(condition()) or self._withdrawn is not None,
                timeout=max(timeout, timedelta(seconds=1)),
            )
        except TimeoutError:
            if timeout_event is None:
                return False
            await self._finish(timeout_status, timeout_event, timeout_reasons or [])
        if self._withdrawn is not None:
            await self._finish(ApplicationStatus.CANCELLED, "WITHDRAWN")
        return True

    async def _reject(self, reasons: list[ReasonCode], event: str, after: Any = None) -> None:
        self._reapply_after = after or reapply_after(reasons, workflow.now().date())
        await self._finish(ApplicationStatus.REJECTED, event, reasons)

    async def _finish(
        self, status: ApplicationStatus, event: str, reasons: list[ReasonCode] | None = None
    ) -> None:
        self._status = status
        self._reasons = unique(reasons or [])
        self._history.append(status)
        self._set_next(NextAction.NONE, None)
        self._upsert(options.STATUS_KEY.value_set(status))
        await self._project(event, reasons=self._reasons, reapply_after=self._reapply_after)
        raise Finished(status)

    def _upsert(self, *updates: SearchAttributeUpdate[Any]) -> None:
        if self._inp.upsert_search_attributes:
            workflow.upsert_search_attributes(list(updates))

    async def _project(self, event: str, **fields: Any) -> None:
        self._seq += 1
        in_review = self._status == ApplicationStatus.MANUAL_REVIEW
        base: dict[str, Any] = {
            "application_id": self._inp.application_id,
            "seq": self._seq,
            "status": self._status,
            "event": event,
            "at": workflow.now(),
            "product_code": self._inp.product.code,
            "requested_amount": self._inp.requested_amount,
            "review_queue": self._review_queue if in_review else None,
        }
        projection = ProjectionInput(**(base | fields))
        await self._call(ActivityName.PROJECT, projection, None, options.STORE)

    def _set_next(self, action: NextAction, deadline: datetime | None) -> None:
        self._next_action = action
        self._deadline = deadline
        workflow.set_current_details(self._current_details())

    def _current_details(self) -> str:
        """The Web UI's "current details": the stage, what it waits for and until when."""
        line = f"**{self._status.value}**"
        if self._status.is_terminal:
            codes = ", ".join(r.value for r in self._reasons)
            return line + (f" — reasons {codes}" if codes else "")
        waiting_for = WAITING_FOR.get(self._next_action)
        if waiting_for:
            line += f" — waiting for {waiting_for}"
        if self._deadline is not None:
            line += f" until {self._deadline.isoformat(timespec='seconds')}"
        return line


def unique(reasons: list[ReasonCode]) -> list[ReasonCode]:
    return list(dict.fromkeys(reasons))
