"""The API's side of the credit-line and draw workflows: query, update and signal by name,
with the same failure mapping as applications (`api.application_workflows`). Never imports
workflow code."""

from __future__ import annotations

from datetime import timedelta
from typing import Any, TypeVar

from pydantic import BaseModel
from temporalio.client import (
    Client,
    WorkflowHandle,
    WorkflowUpdateFailedError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
)
from temporalio.service import RPCError, RPCStatusCode

from api.application_workflows import rpc_failure, update_refusal
from api.errors import ApplicationClosed, NotFound, UpstreamTimeout
from domain.line_messages import DrawView, LineView, MonitoringSignal, PayoffRequest
from domain.naming import QueryName, SignalName, credit_line_workflow_id
from domain.payoff import PayoffQuote

R = TypeVar("R", bound=BaseModel)
QUERY_TIMEOUT = timedelta(seconds=5)


class LineWorkflows:
    def __init__(self, client: Client) -> None:
        self._client = client

    def _line(self, line_id: str) -> WorkflowHandle[Any, Any]:
        return self._client.get_workflow_handle(credit_line_workflow_id(line_id))

    async def status(self, line_id: str) -> LineView:
        return await self._query(self._line(line_id), LineView, "no such credit line")

    async def payoff(self, line_id: str, req: PayoffRequest) -> PayoffQuote:
        handle = self._line(line_id)
        return await self._query(handle, PayoffQuote, "no such credit line", QueryName.PAYOFF, req)

    async def draw_status(self, draw_id: str) -> DrawView:
        handle = self._client.get_workflow_handle(draw_id)
        return await self._query(handle, DrawView, "no such draw")

    async def update_line(self, line_id: str, name: str, arg: BaseModel, result: type[R]) -> R:
        return await self._update(self._line(line_id), name, arg, result, "no such credit line")

    async def update_draw(self, draw_id: str, name: str, arg: BaseModel, result: type[R]) -> R:
        handle = self._client.get_workflow_handle(draw_id)
        return await self._update(handle, name, arg, result, "no such draw")

    async def signal_line(self, line_id: str, event: MonitoringSignal) -> None:
        try:
            await self._line(line_id).signal(SignalName.MONITORING_EVENT, event)
        except RPCError as exc:
            if exc.status == RPCStatusCode.NOT_FOUND:
                raise ApplicationClosed("the credit line has ended") from exc
            raise rpc_failure(exc) from exc

    async def _query(
        self,
        handle: WorkflowHandle[Any, Any],
        result: type[R],
        missing: str,
        name: str = QueryName.STATUS,
        arg: BaseModel | None = None,
    ) -> R:
        args = [] if arg is None else [arg]
        try:
            view: R = await handle.query(
                name, args=args, result_type=result, rpc_timeout=QUERY_TIMEOUT
            )
            return view
        except RPCError as exc:
            if exc.status == RPCStatusCode.NOT_FOUND:
                raise NotFound(missing) from exc
            raise rpc_failure(exc) from exc

    async def _update(
        self,
        handle: WorkflowHandle[Any, Any],
        name: str,
        arg: BaseModel,
        result: type[R],
        missing: str,
    ) -> R:
        try:
            answer: R = await handle.execute_update(name, arg, result_type=result)
            return answer
        except WorkflowUpdateFailedError as exc:
            raise update_refusal(exc.cause) from exc
        except WorkflowUpdateRPCTimeoutOrCancelledError as exc:
            raise UpstreamTimeout("the credit line did not answer in time") from exc
        except RPCError as exc:
            if exc.status == RPCStatusCode.NOT_FOUND:
                raise NotFound(missing) from exc
            raise rpc_failure(exc) from exc
