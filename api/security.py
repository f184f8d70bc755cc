"""Who may call what: applicant tokens bound to one application, ops sign-ins (a bearer token or
the review console's cookie), and the payment gateway's body signature. Every comparison is
constant-time."""

from __future__ import annotations

import hashlib
import hmac

from fastapi.security import APIKeyCookie, HTTPAuthorizationCredentials, HTTPBearer

from api.errors import BadSignature, Unauthorized

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


def applicant_token(secret: str, application_id: str) -> str:
    """HMAC of the application id: stateless, and useless for any other application."""
    return _hmac_hex(secret, application_id.encode())


def require_applicant(
    secret: str, application_id: str, credentials: HTTPAuthorizationCredentials | None
) -> None:
    expected = applicant_token(secret, application_id)
    if credentials is None or not hmac.compare_digest(credentials.credentials, expected):
        raise Unauthorized("a valid applicant token for this application is required")


def require_signature(secret: str, body: bytes, signature: str | None) -> None:
    """`signature` is the hex HMAC-SHA256 of the raw body under the shared callback secret."""
    expected = _hmac_hex(secret, body)
    if not signature or not hmac.compare_digest(signature.strip().lower(), expected):
        raise BadSignature("X-Signature does not match the body")


def application_id_for(secret: str, phone: str, client_request_id: str) -> str:
    """The same (phone, client request id) always names the same application, so a retried POST
    finds the workflow it started. Keyed, so the id reveals nothing about the phone."""
    digest = _hmac_hex(secret, f"application|{phone}|{client_request_id}".encode())
    return "app_" + digest[:24]
