"""Vendor webhooks: the payment gateway's payout notification, verified by its HMAC signature
over a timestamp, a nonce and the body (stale or replayed ones refused), and delivered to the
payout workflow as a signal. A RETURNED for a payout that has finished is checked against the
gateway's own order before it changes the disbursement."""

from __future__ import annotations

import logging
import time
from typing import Annotated

from fastapi import APIRouter, Header, Request
from pydantic import ValidationError

from api.deps import Services, ServicesDep
from api.errors import BadSignature, InvalidRequest, Unavailable
from api.schemas import CallbackAck
from api.security import require_signature
from domain.enums import PayoutStatus
from domain.models import PaymentNotification
from domain.naming import payout_idempotency_key
from domain.signing import MAX_CALLBACK_AGE_SECONDS as MAX_AGE
from store import queries
from vendors.base import VendorError

logger = logging.getLogger(__name__)

router = APIRouter(prefix="/v1/callbacks", tags=["callbacks"])

KEY_PREFIX = payout_idempotency_key("")


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
    settings, gateway, engine = services.settings, services.gateway, services.engine
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
    if await gateway.notify_payment(application_id, notification):
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
