"""Vendor webhooks: the payment gateway's payout notification, verified by its HMAC signature
and delivered to the payout workflow as a signal."""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, Header, Request
from pydantic import ValidationError

from api.deps import EngineDep, GatewayDep, SettingsDep
from api.errors import InvalidRequest, error_docs
from api.schemas import CallbackAck
from api.security import require_signature
from domain.enums import PayoutStatus
from domain.models import PaymentNotification
from domain.naming import payout_idempotency_key
from store import queries

logger = logging.getLogger(__name__)

router = APIRouter(prefix="/v1/callbacks", tags=["callbacks"])

KEY_PREFIX = payout_idempotency_key("")


@router.post(
    "/payments",
    responses=error_docs(
        401,
        422,
        _401="X-Signature is not the HMAC-SHA256 of the body",
        _422="not a PaymentNotification",
    ),
)
async def payment_notification(
    request: Request,
    settings: SettingsDep,
    gateway: GatewayDep,
    engine: EngineDep,
    x_signature: Annotated[str | None, Header(description="hex HMAC-SHA256 of the body")] = None,
) -> CallbackAck:
    """Body: a `PaymentNotification`. An order whose payout workflow has finished (or never
    existed) is acknowledged as `ignored`, so the gateway stops retrying it."""
    body = await request.body()
    require_signature(settings.payment_callback_secret, body, x_signature)
    try:
        notification = PaymentNotification.model_validate_json(body)
    except ValidationError as exc:
        raise InvalidRequest(exc.errors(include_input=False, include_url=False)) from None
    if not notification.idempotency_key.startswith(KEY_PREFIX):
        raise InvalidRequest("idempotency_key is not a payout key")
    application_id = notification.idempotency_key.removeprefix(KEY_PREFIX)
    if await gateway.notify_payment(application_id, notification):
        return CallbackAck(status="accepted")
    if notification.status == PayoutStatus.RETURNED and await queries.in_thread(
        engine, queries.mark_disbursement_returned, notification.idempotency_key,
        notification.order_id,
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
