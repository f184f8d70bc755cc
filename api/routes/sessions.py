"""Ops sign-in: a person's username and password for a short-lived signed token, returned in
the body (for `Authorization: Bearer`) and as the HttpOnly `loanflow_ops` cookie (for the review
console and the Web UI's codec requests). Signing out revokes the token."""

from __future__ import annotations

import logging
from datetime import timedelta

from fastapi import APIRouter, Response

from api.deps import LimiterDep, ServicesDep, SignedIn
from api.errors import Unauthorized
from api.identity import issue_ops_token, password_matches
from api.limits import WRONG_PASSWORDS
from api.schemas import OpsSessionOut, OpsSignIn
from api.security import OPS_COOKIE
from domain.enums import OpsRole
from store import identity, queries

logger = logging.getLogger(__name__)

router = APIRouter(prefix="/v1/ops/sessions", tags=["ops"])


@router.post(
    "",
    responses={
        401: {"description": "wrong username or password, or disabled"},
        429: {"description": "locked after too many wrong passwords"},
    },
)
async def sign_in(
    body: OpsSignIn, response: Response, services: ServicesDep, limiter: LimiterDep
) -> OpsSessionOut:
    settings = services.settings
    await limiter.require_not_locked(WRONG_PASSWORDS, body.username)
    user = await queries.in_thread(services.engine, identity.get_user, body.username)
    known = user is not None and user.active
    if not password_matches(user.password_hash if known and user else None, body.password):
        await limiter.failed(WRONG_PASSWORDS, body.username)
        logger.warning("ops sign-in refused")
        raise Unauthorized("wrong username or password")
    assert user is not None
    role = OpsRole(user.role)
    issued = issue_ops_token(
        settings.token_keys,
        settings.token_key_id,
        user.username,
        role,
        timedelta(minutes=settings.ops_session_minutes),
    )
    response.set_cookie(
        OPS_COOKIE,
        issued.token,
        max_age=settings.ops_session_minutes * 60,
        httponly=True,
        secure=settings.environment == "production",
        samesite="strict",
    )
    logger.info("ops sign-in: %s (%s)", user.username, role.value)
    return OpsSessionOut(
        access_token=issued.token,
        token_type="bearer",
        expires_at=issued.expires_at,
        username=user.username,
        role=role,
    )


@router.delete("", status_code=204, responses={401: {"description": "not signed in"}})
async def sign_out(principal: SignedIn, services: ServicesDep) -> Response:
    await queries.in_thread(
        services.engine, identity.revoke_token, principal.jti, principal.expires_at
    )
    logger.info("ops sign-out: %s", principal.username)
    response = Response(status_code=204)
    response.delete_cookie(OPS_COOKIE, httponly=True, samesite="strict")
    return response
