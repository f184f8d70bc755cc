"""The API's side of the workflow interface: start, query, update and signal by name, and what
each Temporal failure means to an HTTP caller. The API never imports workflow code; names and
ids come from domain.naming."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from typing import Any, TypeVar

from prometheus_client import Counter
from pydantic import BaseModel
from temporalio.client import (
    Client,
    WorkflowExecutionStatus,
    WorkflowHandle,
    WorkflowUpdateFailedError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
)
from temporalio.common import (
    SearchAttributePair,
    TypedSearchAttributes,
    WorkflowIDReusePolicy,
)
from temporalio.exceptions import ApplicationError, WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from api.errors import (
    ApplicationClosed,
    Internal,
    InvalidInput,
    NotFound,
    Unavailable,
    UpstreamTimeout,
    WrongStage,
)
from api.watch import StoreWatch
from domain.application import StartApplicationInput
from domain.enums import ApplicationStatus
from domain.naming import (
    APPLICATION_TASK_QUEUE,
    ErrorType,
    QueryName,
    SearchAttributeKeys,
    SignalName,
    WorkflowName,
    application_workflow_id,
    payout_workflow_id,
)
from domain.payout import PaymentNotification
from domain.status import ApplicationView

logger = logging.getLogger(__name__)

R = TypeVar("R", bound=BaseModel)

# Right after a start the first workflow task may not have run; a closed workflow is answered
# by replay on a worker. Neither should hold an HTTP request for long.
QUERY_TIMEOUT = timedelta(seconds=5)
READY_ATTEMPTS = 5
READY_BACKOFF_SECONDS = 0.2
STEP_POLL_SECONDS = 0.1

# What a live read raises when no worker or no Temporal answers it (or it outlasts its
# caller's bound), rather than "no such application": the store's projection may answer in
# its place (`api.live`).
UNREACHABLE: tuple[type[Exception], ...] = (
    Unavailable,
    UpstreamTimeout,
    RPCError,
    RuntimeError,
    TimeoutError,
)


class ApplicationWorkflows:
    def __init__(
        self, client: Client, watch: StoreWatch | None = None, queries: Counter | None = None
    ) -> None:
        self._client = client
        self._watch = watch
        self._queries = queries

    @property
    def watch(self) -> StoreWatch | None:
        return self._watch

    def _handle(self, application_id: str) -> WorkflowHandle[Any, Any]:
        return self._client.get_workflow_handle(application_workflow_id(application_id))

    async def start(self, inp: StartApplicationInput) -> bool:
        """Start the application workflow; False when it already exists (a retried POST)."""
        attributes = TypedSearchAttributes(
            [
                SearchAttributePair(SearchAttributeKeys.STATUS, ApplicationStatus.SUBMITTED.value),
                SearchAttributePair(SearchAttributeKeys.PRODUCT, inp.product.code),
                SearchAttributePair(SearchAttributeKeys.AMOUNT, float(inp.requested_amount)),
            ]
        )
        try:
            await self._client.start_workflow(
                WorkflowName.APPLICATION,
                inp,
                id=application_workflow_id(inp.application_id),
                task_queue=APPLICATION_TASK_QUEUE,
                id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
                search_attributes=attributes,
                static_summary=static_summary(inp),
                static_details=static_details(inp),
            )
        except WorkflowAlreadyStartedError:
            return False
        except RPCError as exc:
            raise rpc_failure(exc) from exc
        logger.info("application %s started", inp.application_id)
        return True

    async def status(self, application_id: str, *, just_started: bool = False) -> ApplicationView:
        """The live view from the `status` query. `just_started` retries briefly, for the answer
        to the POST that started the workflow."""
        handle = self._handle(application_id)
        attempts = READY_ATTEMPTS if just_started else 1
        for attempt in range(1, attempts + 1):
            if self._queries is not None:
                self._queries.inc()
            try:
                view: ApplicationView = await handle.query(
                    QueryName.STATUS, result_type=ApplicationView, rpc_timeout=QUERY_TIMEOUT
                )
                return view
            except RPCError as exc:
                final = exc.status in (RPCStatusCode.NOT_FOUND, RPCStatusCode.DEADLINE_EXCEEDED)
                if final or attempt == attempts:
                    raise rpc_failure(exc) from exc
            await asyncio.sleep(READY_BACKOFF_SECONDS * attempt)
        raise Unavailable("the application did not answer")

    async def status_or_none(self, application_id: str) -> ApplicationView | None:
        """The live view when the workflow answers; None when it is unknown or unreachable."""
        try:
            return await self.status(application_id)
        except (NotFound, Unavailable, UpstreamTimeout):
            return None

    async def status_after(
        self,
        application_id: str,
        before: ApplicationStatus,
        wait_seconds: float = 3.0,
        *,
        live_wait: float | None = None,
    ) -> ApplicationView | None:
        """The live view once the status has moved on from `before`: an update's handler
        answers before the workflow's main line takes the next stage, and a step's caller wants
        the stage after it. The last view read if it has not moved within `wait_seconds`.

        Between live reads it waits for the store's projection to advance (`api.watch`), asking
        the workflow again at least every `api.watch.RECHECK` seconds; without a watch or a
        stored row, it asks every `STEP_POLL_SECONDS`, and with the store not answering, every
        `api.watch.DEGRADED_RECHECK`. With `live_wait`, a live read that finds
        no worker or takes longer than that ends the wait with None at once (an unknown
        application raises NotFound), so that a caller with the store to fall back on is not
        held for `QUERY_TIMEOUT` on each read."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + wait_seconds
        seen = await self._watch.seq(application_id) if self._watch else None
        view = await self._read(application_id, live_wait)
        while view is not None and view.status == before:
            left = deadline - loop.time()
            if left <= 0:
                break
            if self._watch is not None and seen is not None:
                seen = (
                    await self._watch.advanced(application_id, seen, min(left, self._watch.recheck))
                    or seen
                )
            elif self._watch is not None and not self._watch.healthy:
                # The store is down: every waiter asking ten times a second would add a
                # query a tenth of a second per waiting applicant to the outage.
                await asyncio.sleep(min(left, self._watch.degraded_recheck))
            else:
                await asyncio.sleep(min(left, STEP_POLL_SECONDS))
            view = await self._read(application_id, live_wait)
        return view

    async def _read(self, application_id: str, live_wait: float | None) -> ApplicationView | None:
        """`status_or_none`, or with `live_wait` the live view if it comes within that many
        seconds."""
        if live_wait is None:
            return await self.status_or_none(application_id)
        try:
            return await asyncio.wait_for(self.status(application_id), live_wait)
        except UNREACHABLE:
            return None

    async def update(
        self, application_id: str, name: str, arg: BaseModel | None, result_type: type[R]
    ) -> R:
        handle = self._handle(application_id)
        try:
            if arg is None:
                result: R = await handle.execute_update(name, result_type=result_type)
            else:
                result = await handle.execute_update(name, arg, result_type=result_type)
            return result
        except WorkflowUpdateFailedError as exc:
            raise update_refusal(exc.cause) from exc
        except WorkflowUpdateRPCTimeoutOrCancelledError as exc:
            raise UpstreamTimeout("the application did not answer in time") from exc
        except RPCError as exc:
            if exc.status == RPCStatusCode.NOT_FOUND:
                raise await self._closed_or_missing(application_id) from exc
            raise rpc_failure(exc) from exc

    async def _closed_or_missing(self, application_id: str) -> Exception:
        handle = self._handle(application_id)
        try:
            description = await handle.describe()
        except RPCError as exc:
            return rpc_failure(exc)
        if description.status == WorkflowExecutionStatus.RUNNING:
            return Unavailable("the application is busy; try again")
        view = await self.status_or_none(application_id)
        final = (
            view.status
            if view
            else description.typed_search_attributes.get(SearchAttributeKeys.STATUS)
        )
        return ApplicationClosed(
            "the application has finished",
            status=final or (description.status.name if description.status else ""),
        )

    async def notify_payment(self, application_id: str, notification: PaymentNotification) -> bool:
        """Signal the payout workflow; False when it has finished or never existed."""
        handle = self._client.get_workflow_handle(payout_workflow_id(application_id))
        try:
            await handle.signal(SignalName.PAYMENT_NOTIFICATION, notification)
        except RPCError as exc:
            if exc.status == RPCStatusCode.NOT_FOUND:
                return False
            raise rpc_failure(exc) from exc
        return True


def static_summary(inp: StartApplicationInput) -> str:
    """The Web UI's one-line summary: applicant-safe (no name, phone or ID number)."""
    yuan = inp.requested_amount / 100
    return f"Loan application {inp.application_id} · {inp.product.code} · ¥{yuan:,.2f}"


def static_details(inp: StartApplicationInput) -> str:
    return (
        f"**Application** `{inp.application_id}`\n\n"
        f"- product: {inp.product.code}\n"
        f"- requested amount: ¥{inp.requested_amount / 100:,.2f} "
        f"over {inp.requested_term} months\n"
        f"- submitted: {inp.submitted_at.isoformat(timespec='seconds')}\n\n"
        "Status in the `ApplicationStatus` column; the current stage and what it waits for "
        "under *Current details*."
    )


def update_refusal(cause: BaseException | None) -> Exception:
    """A validator's or handler's ApplicationError as the API error it stands for."""
    if isinstance(cause, ApplicationError):
        if cause.type == ErrorType.WRONG_STAGE:
            current = cause.details[0] if cause.details else None
            return WrongStage(cause.message, status=current)
        if cause.type == ErrorType.INVALID_INPUT:
            return InvalidInput(cause.message)
    logger.error("update failed: %s", type(cause).__name__ if cause else "no cause")
    return Internal("the application could not process the request")


def rpc_failure(exc: RPCError) -> Exception:
    if exc.status == RPCStatusCode.NOT_FOUND:
        return NotFound("no such application")
    if exc.status == RPCStatusCode.DEADLINE_EXCEEDED:
        return UpstreamTimeout("the application did not answer in time")
    logger.error("temporal call failed: %s", exc.status.name if exc.status else "unknown")
    return Unavailable("the workflow service is unavailable")
