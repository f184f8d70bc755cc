"""Who is calling, proven by signed tokens: ops people (username, role) and applicants (one
application, scopes). Tokens are JWTs (HS256) with `exp`, `kid` (the signing key's id, so keys
rotate: a retired key still verifies until its tokens expire), `aud` (an applicant token is never
an ops token) and `jti` (so one token can be revoked). Passwords are argon2id hashes.
"""

from __future__ import annotations

import hashlib
import hmac
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from api.errors import Unauthorized
from domain.enums import OpsRole

ALGORITHM = "HS256"
ISSUER = "loanflow"
OPS_AUDIENCE = "loanflow-ops"
APPLICANT_AUDIENCE = "loanflow-applicant"
DEV_KEY_ID = "dev-1"

_hasher = PasswordHasher()
# Verified when the username is unknown, so a wrong name costs as long as a wrong password.
_DUMMY_HASH = _hasher.hash("loanflow-no-such-user")


class Scope(StrEnum):
    READ = "application:read"
    WRITE = "application:write"
    REFRESH = "token:refresh"


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def password_matches(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


@dataclass(frozen=True)
class IssuedToken:
    token: str
    jti: str
    expires_at: datetime


@dataclass(frozen=True)
class TokenClaims:
    subject: str
    jti: str
    expires_at: datetime
    role: OpsRole | None
    scopes: frozenset[Scope]


def _signing_key(secret: str) -> bytes:
    # A key of its own for tokens (the same secret also derives application ids), and always
    # 32 bytes whatever the configured secret's length.
    return hmac.new(secret.encode(), b"loanflow token signing", hashlib.sha256).digest()


def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def _sign(
    keys: Mapping[str, str], key_id: str, claims: dict[str, Any], lifetime: timedelta
) -> IssuedToken:
    now = _now()
    jti = uuid.uuid4().hex
    expires_at = now + lifetime
    body = {"iss": ISSUER, "iat": now, "nbf": now, "exp": expires_at, "jti": jti, **claims}
    token = jwt.encode(
        body, _signing_key(keys[key_id]), algorithm=ALGORITHM, headers={"kid": key_id}
    )
    return IssuedToken(token=token, jti=jti, expires_at=expires_at)


def _verify(keys: Mapping[str, str], token: str, audience: str) -> dict[str, Any]:
    try:
        key_id = jwt.get_unverified_header(token).get("kid")
        key = keys.get(key_id) if isinstance(key_id, str) else None
        if key is None:
            raise Unauthorized("the token's signing key is unknown")
        claims: dict[str, Any] = jwt.decode(
            token,
            _signing_key(key),
            algorithms=[ALGORITHM],
            audience=audience,
            issuer=ISSUER,
            options={"require": ["exp", "iat", "sub", "jti", "aud"]},
        )
    except jwt.ExpiredSignatureError as exc:
        raise Unauthorized("the token has expired") from exc
    except jwt.PyJWTError as exc:
        raise Unauthorized("the token is not valid here") from exc
    return claims


def _claims(raw: dict[str, Any], role: OpsRole | None, scopes: frozenset[Scope]) -> TokenClaims:
    return TokenClaims(
        subject=str(raw["sub"]),
        jti=str(raw["jti"]),
        expires_at=datetime.fromtimestamp(int(raw["exp"]), UTC),
        role=role,
        scopes=scopes,
    )


def issue_ops_token(
    keys: Mapping[str, str], key_id: str, username: str, role: OpsRole, lifetime: timedelta
) -> IssuedToken:
    return _sign(keys, key_id, {"aud": OPS_AUDIENCE, "sub": username, "role": role.value}, lifetime)


def verify_ops_token(keys: Mapping[str, str], token: str) -> TokenClaims:
    raw = _verify(keys, token, OPS_AUDIENCE)
    try:
        role = OpsRole(str(raw.get("role")))
    except ValueError as exc:
        raise Unauthorized("the token names no ops role") from exc
    return _claims(raw, role, frozenset())


def issue_applicant_token(
    keys: Mapping[str, str],
    key_id: str,
    application_id: str,
    scopes: frozenset[Scope],
    lifetime: timedelta,
) -> IssuedToken:
    claims = {
        "aud": APPLICANT_AUDIENCE,
        "sub": application_id,
        "scope": " ".join(sorted(s.value for s in scopes)),
    }
    return _sign(keys, key_id, claims, lifetime)


def verify_applicant_token(keys: Mapping[str, str], token: str) -> TokenClaims:
    raw = _verify(keys, token, APPLICANT_AUDIENCE)
    try:
        scopes = frozenset(Scope(s) for s in str(raw.get("scope", "")).split())
    except ValueError as exc:
        raise Unauthorized("the token names an unknown scope") from exc
    return _claims(raw, None, scopes)
