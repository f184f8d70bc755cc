"""Who may call what: applicant tokens bound to one application, ops sign-ins (a bearer token or
the review console's cookie), and the payment gateway's body signature. Every comparison is
constant-time."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta

from fastapi.security import APIKeyCookie, HTTPAuthorizationCredentials, HTTPBearer

from api.errors import BadSignature, Unauthorized
from api.identity import (
    DEV_KEY_ID,
    IssuedToken,
    Scope,
    TokenClaims,
    issue_applicant_token,
    verify_applicant_token,
)
from config.settings import Settings
from domain.signing import MAX_CALLBACK_AGE_SECONDS, signature_matches

applicant_bearer = HTTPBearer(
    auto_error=False,
    scheme_name="ApplicantToken",
    description="the applicant_token returned when the application was started",
)
ops_bearer = HTTPBearer(
    auto_error=False,
    scheme_name="OpsToken",
    description="the access_token of `POST /v1/ops/sessions`",
)
OPS_COOKIE = "loanflow_ops"
ops_cookie = APIKeyCookie(
    name=OPS_COOKIE,
    auto_error=False,
    scheme_name="OpsCookie",
    description="the same token in an HttpOnly cookie, as the review console sends it",
)


def _hmac_hex(secret: str, message: bytes) -> str:
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


APPLICANT_SCOPES = frozenset({Scope.READ, Scope.WRITE})


def applicant_token(
    secret: str,
    application_id: str,
    *,
    key_id: str = DEV_KEY_ID,
    lifetime: timedelta = timedelta(minutes=30),
    scopes: frozenset[Scope] = APPLICANT_SCOPES,
) -> str:
    """A short-lived access token for one application (tests and tools; the API issues tokens
    with `issue_applicant_tokens`)."""
    return issue_applicant_token({key_id: secret}, key_id, application_id, scopes, lifetime).token


def require_applicant(
    keys: Mapping[str, str] | str,
    application_id: str,
    credentials: HTTPAuthorizationCredentials | None,
    scope: Scope = Scope.READ,
) -> TokenClaims:
    """The token's claims when it is an unexpired access token of this application with
    `scope`; `keys` is the ring of signing keys by id (a bare secret means the dev key id)."""
    ring = {DEV_KEY_ID: keys} if isinstance(keys, str) else keys
    if credentials is None:
        raise Unauthorized("a valid applicant token for this application is required")
    claims = verify_applicant_token(ring, credentials.credentials)
    if not hmac.compare_digest(claims.subject.encode(), application_id.encode()):
        raise Unauthorized("a valid applicant token for this application is required")
    if scope not in claims.scopes:
        raise Unauthorized(f"the token does not allow {scope.value}")
    return claims


@dataclass(frozen=True)
class ApplicantTokens:
    access: IssuedToken
    refresh: IssuedToken


def issue_applicant_tokens(
    settings: Settings, application_id: str, *, read_only: bool = False
) -> ApplicantTokens:
    """An access token (read and write, or read only once the application has ended) and a
    longer-lived refresh token the app exchanges for the next pair."""
    keys, key_id = settings.token_keys, settings.token_key_id
    scopes = frozenset({Scope.READ}) if read_only else APPLICANT_SCOPES
    return ApplicantTokens(
        access=issue_applicant_token(
            keys,
            key_id,
            application_id,
            scopes,
            timedelta(minutes=settings.applicant_token_minutes),
        ),
        refresh=issue_applicant_token(
            keys,
            key_id,
            application_id,
            frozenset({Scope.REFRESH}),
            timedelta(days=settings.applicant_refresh_days),
        ),
    )


def require_signature(
    secret: str,
    body: bytes,
    signature: str | None,
    timestamp: str | None,
    nonce: str | None,
    now: float,
) -> None:
    """The gateway's signature over timestamp, nonce and body (`domain.signing`), with the
    timestamp within five minutes of `now`. The nonce's first use is checked by the caller."""
    if not timestamp or not timestamp.isdigit() or not nonce:
        raise BadSignature("X-Timestamp and X-Nonce are required")
    if not signature_matches(secret, timestamp, nonce, body, signature):
        raise BadSignature("X-Signature does not match timestamp, nonce and body")
    if abs(now - int(timestamp)) > MAX_CALLBACK_AGE_SECONDS:
        raise BadSignature("the callback is stale")


def application_id_for(secret: str, phone: str, client_request_id: str) -> str:
    """The same (phone, client request id) always names the same application, so a retried POST
    finds the workflow it started. Keyed, so the id reveals nothing about the phone."""
    digest = _hmac_hex(secret, f"application|{phone}|{client_request_id}".encode())
    return "app_" + digest[:24]
