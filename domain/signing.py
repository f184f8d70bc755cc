"""The payment gateway's callback signature, in one function that the gateway simulator signs
with and the API verifies with: HMAC-SHA256 over the timestamp, the nonce and the raw body, so a
captured callback cannot be replayed later (stale timestamp) or again (spent nonce)."""

from __future__ import annotations

import hashlib
import hmac

SIGNATURE_HEADER = "X-Signature"
TIMESTAMP_HEADER = "X-Timestamp"
NONCE_HEADER = "X-Nonce"
MAX_CALLBACK_AGE_SECONDS = 300


def callback_signature(secret: str, timestamp: str, nonce: str, body: bytes) -> str:
    """Hex HMAC-SHA256 of `{timestamp}.{nonce}.{body}`; timestamp in Unix seconds."""
    message = timestamp.encode() + b"." + nonce.encode() + b"." + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def signature_matches(
    secret: str, timestamp: str, nonce: str, body: bytes, signature: str | None
) -> bool:
    if not signature:
        return False
    expected = callback_signature(secret, timestamp, nonce, body)
    return hmac.compare_digest(expected, signature.strip().lower())


def signed_headers(secret: str, body: bytes, timestamp: int, nonce: str) -> dict[str, str]:
    return {
        TIMESTAMP_HEADER: str(timestamp),
        NONCE_HEADER: nonce,
        SIGNATURE_HEADER: callback_signature(secret, str(timestamp), nonce, body),
    }
