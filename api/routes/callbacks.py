"""Vendor webhooks, each verified by the vendor's HMAC signature over a timestamp, a nonce and
the body (stale or replayed ones refused):

- the payment gateway's payout notification, delivered to the payout workflow as a signal; a
  RETURNED for a payout that has finished is checked against the gateway's own order before it
  changes the disbursement;
- the bureau's post-loan alerts and the device-risk vendor's events, delivered as a behaviour
  signal to each live credit line of the customer (the line's monitoring policy decides; a
  re-delivered alert has the same id and is evaluated once)."""

from __future__ import annotations

import logging
import time
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Header, Request
from pydantic import ValidationError

from api.deps import Services, ServicesDep
from api.errors import ApplicationClosed, BadSignature, InvalidRequest, Unavailable
from api.line_workflows import LineWorkflows
from api.schemas import CallbackAck
from api.security import require_signature
from domain.alerts import BureauAlert, DeviceRiskEvent
from domain.enums import PayoutStatus
from domain.line_messages import MonitoringSignal
from domain.lines import customer_id_for
from domain.naming import payout_idempotency_key
from domain.payout import PaymentNotification
from domain.signing import MAX_CALLBACK_AGE_SECONDS as MAX_AGE
from store import lines as line_store
from store import queries
from vendors.base import VendorError

logger = logging.getLogger(__name__)

router = APIRouter(prefix="/v1/callbacks", tags=["callbacks"])

KEY_PREFIX = payout_idempotency_key("")
Alert = TypeVar("Alert", BureauAlert, DeviceRiskEvent)
SIGNED: dict[int | str, dict[str, Any]] = {
    401: {"description": "bad signature, stale timestamp or reused nonce"},
    422: {"description": "not the vendor's message"},
}
SignatureHeader = Annotated[
    str | None, Header(description="hex HMAC-SHA256 of `{timestamp}.{nonce}.{body}`")
]
TimestampHeader = Annotated[str | None, Header(max_length=20, description="Unix seconds")]
NonceHeader = Annotated[str | None, Header(max_length=64, description="used once")]


@router.post(
    "/payments",
    responses={
        401: {"description": "bad signature, stale timestamp or reused nonce"},
        503: {"description": "the gateway could not confirm a late RETURNED; retry"},
        422: {"description": "not a PaymentNotification"},
    },
)
async def payment_notification(
    request: Request,
    services: ServicesDep,
    x_signature: Annotated[
        str | None, Header(description="hex HMAC-SHA256 of `{timestamp}.{nonce}.{body}`")
    ] = None,
    x_timestamp: Annotated[str | None, Header(max_length=20, description="Unix seconds")] = None,
    x_nonce: Annotated[str | None, Header(max_length=64, description="used once")] = None,
) -> CallbackAck:
    """Body: a `PaymentNotification`. An order whose payout workflow has finished (or never
    existed) is acknowledged as `ignored`, so the gateway stops retrying it."""
    settings, workflows, engine = services.settings, services.workflows, services.engine
    body = await request.body()
    require_signature(
        settings.payment_callback_secret, body, x_signature, x_timestamp, x_nonce, time.time()
    )
    # Kept for twice the accepted age: an older replay is refused as stale anyway.
    if not await services.limiter.first_use("callback-nonce", x_nonce or "", 2 * MAX_AGE):
        raise BadSignature("the callback was already received (nonce reused)")
    try:
        notification = PaymentNotification.model_validate_json(body)
    except ValidationError as exc:
        raise InvalidRequest(exc.errors(include_input=False, include_url=False)) from None
    if not notification.idempotency_key.startswith(KEY_PREFIX):
        raise InvalidRequest("idempotency_key is not a payout key")
    application_id = notification.idempotency_key.removeprefix(KEY_PREFIX)
    if await workflows.notify_payment(application_id, notification):
        return CallbackAck(status="accepted")
    if (
        notification.status == PayoutStatus.RETURNED
        and await _gateway_confirms_return(services, notification)
        and await queries.in_thread(
            engine, queries.mark_disbursement_returned, notification.idempotency_key,
            notification.order_id,
        )
    ):  # fmt: skip
        logger.warning(
            "disbursement of %s returned by the bank after payout (order %s): ops action needed",
            application_id,
            notification.order_id,
        )
        return CallbackAck(status="recorded")
    logger.info(
        "payment notification for %s ignored: no running payout (order %s, %s)",
        application_id,
        notification.order_id,
        notification.status.value,
    )
    return CallbackAck(status="ignored")


async def _gateway_confirms_return(services: Services, notification: PaymentNotification) -> bool:
    """A signed callback is not enough to undo a success: the gateway's own order must say the
    same order was returned."""
    try:
        order = await services.payments.query(notification.idempotency_key)
    except VendorError as exc:
        raise Unavailable("the payment gateway cannot confirm the return; retry") from exc
    confirmed = (
        order is not None
        and order.order_id == notification.order_id
        and order.status == PayoutStatus.RETURNED
    )
    if not confirmed:
        logger.warning(
            "RETURNED callback for order %s not confirmed by the gateway: ignored",
            notification.order_id,
        )
    return confirmed


@router.post("/bureau-alerts", responses=SIGNED)
async def bureau_alert(
    request: Request,
    services: ServicesDep,
    x_signature: SignatureHeader = None,
    x_timestamp: TimestampHeader = None,
    x_nonce: NonceHeader = None,
) -> CallbackAck:
    """Body: a `BureauAlert`. `ignored` when the person has no live credit line."""
    secret = services.settings.bureau_callback_secret
    body = await _verified(request, services, "bureau", secret, x_signature, x_timestamp, x_nonce)
    alert = _parse(BureauAlert, body)
    return await _signal_lines(services, customer_id_for(alert.id_number), alert.signal())


@router.post("/device-risk", responses=SIGNED)
async def device_risk_event(
    request: Request,
    services: ServicesDep,
    x_signature: SignatureHeader = None,
    x_timestamp: TimestampHeader = None,
    x_nonce: NonceHeader = None,
) -> CallbackAck:
    """Body: a `DeviceRiskEvent`. `ignored` when the account has no live credit line."""
    secret = services.settings.device_risk_callback_secret
    body = await _verified(
        request, services, "device-risk", secret, x_signature, x_timestamp, x_nonce
    )
    event = _parse(DeviceRiskEvent, body)
    return await _signal_lines(services, event.account_id, event.signal())


async def _verified(
    request: Request,
    services: ServicesDep,
    vendor: str,
    secret: str,
    signature: str | None,
    timestamp: str | None,
    nonce: str | None,
) -> bytes:
    body = await request.body()
    require_signature(secret, body, signature, timestamp, nonce, time.time())
    if not await services.limiter.first_use(f"{vendor}-nonce", nonce or "", 2 * MAX_AGE):
        raise BadSignature("the callback was already received (nonce reused)")
    return body


def _parse(model: type[Alert], body: bytes) -> Alert:
    try:
        return model.model_validate_json(body)
    except ValidationError as exc:
        raise InvalidRequest(exc.errors(include_input=False, include_url=False)) from None


async def _signal_lines(
    services: Services, customer_id: str, signal: MonitoringSignal
) -> CallbackAck:
    line_ids = await queries.in_thread(
        services.engine, line_store.live_lines_of_customer, customer_id
    )
    lines, signalled = LineWorkflows(services.client), 0
    for line_id in line_ids:
        try:
            await lines.signal_line(line_id, signal)
        except ApplicationClosed:
            continue
        signalled += 1
        logger.info("%s %s signalled to line %s", signal.kind, signal.reference, line_id)
    return CallbackAck(status="accepted" if signalled else "ignored")
