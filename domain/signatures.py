"""The payment gateway's callback signature: hex HMAC-SHA256 of the raw body under the shared
callback secret, in the `X-Signature` header. Produced by the gateway (the simulator), checked by
the API."""

from __future__ import annotations

import hashlib
import hmac

SIGNATURE_HEADER = "X-Signature"


def sign_payment_callback(secret: str, body: bytes) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def payment_callback_signed(secret: str, body: bytes, signature: str | None) -> bool:
    """Constant-time check of a signature header against the raw request body."""
    if not signature:
        return False
    return hmac.compare_digest(sign_payment_callback(secret, body), signature.strip().lower())
