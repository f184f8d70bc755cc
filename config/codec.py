"""Payload codec: AES-256-GCM encryption of every Temporal payload, so PII never sits in clear
in history. The Web UI decodes through the API's codec endpoint.

The keys are a ring: the current key (and its id, written into each payload's metadata) encrypts;
retired keys, by id, still decrypt the payloads already in histories. Rotating is: move the
current key into `payload_previous_keys`, set a new current key and id, restart workers and API.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Iterable, Mapping, Sequence

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from temporalio.api.common.v1 import Payload
from temporalio.converter import PayloadCodec

ENCODING = b"binary/encrypted"


class EncryptionCodec(PayloadCodec):
    def __init__(
        self, key_b64: str, key_id: str, previous_keys: Mapping[str, str] | None = None
    ) -> None:
        """`key_b64` under `key_id` encrypts; `previous_keys` (id -> base64 key) decrypt only."""
        self._key_id = key_id.encode()
        self._cipher = AESGCM(base64.b64decode(key_b64))
        self._ring = {
            kid.encode(): AESGCM(base64.b64decode(k)) for kid, k in (previous_keys or {}).items()
        }
        self._ring[self._key_id] = self._cipher

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [self.encode_one(p) for p in payloads]

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return list(self.decode_many(payloads))

    def encode_one(self, payload: Payload) -> Payload:
        nonce = os.urandom(12)
        sealed = self._cipher.encrypt(nonce, payload.SerializeToString(), None)
        return Payload(
            metadata={"encoding": ENCODING, "encryption-key-id": self._key_id},
            data=nonce + sealed,
        )

    def decode_many(self, payloads: Iterable[Payload]) -> Iterable[Payload]:
        for payload in payloads:
            if payload.metadata.get("encoding", b"") != ENCODING:
                yield payload
                continue
            key_id = payload.metadata.get("encryption-key-id", b"")
            cipher = self._ring.get(key_id)
            if cipher is None:
                raise ValueError(f"unknown encryption key id {key_id.decode(errors='replace')}")
            nonce, sealed = payload.data[:12], payload.data[12:]
            yield Payload.FromString(cipher.decrypt(nonce, sealed, None))
