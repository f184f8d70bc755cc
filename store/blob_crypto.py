"""Encryption at rest for the blob store (ID card images, selfies, liveness videos, contracts):
envelope encryption around any object with the `BlobStore` interface.

Each object has a data key of its own that encrypts it (AES-256-GCM); the data key is stored
with the object, wrapped (AES-256-GCM) by a key from configuration, whose id is stored too. A new
key id encrypts new objects while the old ids still decrypt theirs: rotation is adding a key,
switching `blob_key_id`, and (optionally) `rewrap` of old objects.

The data key and nonces are derived from the key and the content's digest (HMAC), so the same
bytes under the same key encrypt to the same object: the inner store's content addressing still
makes a retried write a no-op and keeps the contract's "same input, same key". A data key is
then used for exactly one plaintext, which is what makes its fixed nonce safe.

Object layout: MAGIC | key id length (1 byte) | key id | wrap nonce (12) | wrapped data key (48)
| ciphertext with tag. An object without MAGIC is a plaintext object written before encryption
was enabled: it is still readable (and logged) so that a deployment can migrate.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from collections.abc import Mapping

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from store.blobs import BlobStore

logger = logging.getLogger(__name__)

MAGIC = b"LFE1"
NONCE_BYTES = 12
DATA_NONCE = b"\x00" * NONCE_BYTES
WRAPPED_KEY_BYTES = 32 + 16


class BlobDecryptionError(ValueError):
    """The object is damaged, or was encrypted under a key id this process does not have."""


class EncryptedBlobStore:
    def __init__(self, inner: BlobStore, keys: Mapping[str, bytes], key_id: str) -> None:
        if key_id not in keys:
            raise ValueError(f"blob key id {key_id!r} is not among the configured keys")
        for kid, key in keys.items():
            if len(key) != 32 or not 0 < len(kid.encode()) < 256:
                raise ValueError(f"blob key {kid!r} must be 32 bytes with a short id")
        self.inner = inner
        self._keys = dict(keys)
        self._key_id = key_id

    def _derive(self, key_id: str, label: bytes, digest: str) -> bytes:
        message = label + key_id.encode() + b"|" + digest.encode()
        return hmac.new(self._keys[key_id], message, hashlib.sha256).digest()

    def seal(self, data: bytes, digest: str | None = None) -> bytes:
        digest = digest or hashlib.sha256(data).hexdigest()
        kid = self._key_id
        data_key = self._derive(kid, b"data-key|", digest)
        wrap_nonce = self._derive(kid, b"wrap-nonce|", digest)[:NONCE_BYTES]
        kid_bytes = kid.encode()
        wrapped = AESGCM(self._keys[kid]).encrypt(wrap_nonce, data_key, kid_bytes)
        sealed = AESGCM(data_key).encrypt(DATA_NONCE, data, kid_bytes)
        return MAGIC + bytes([len(kid_bytes)]) + kid_bytes + wrap_nonce + wrapped + sealed

    def open(self, blob: bytes) -> bytes:
        if not blob.startswith(MAGIC):
            logger.warning("plaintext blob read: written before encryption at rest")
            return blob
        at = len(MAGIC)
        kid_bytes = blob[at + 1 : at + 1 + blob[at]]
        at += 1 + len(kid_bytes)
        wrap_nonce, at = blob[at : at + NONCE_BYTES], at + NONCE_BYTES
        wrapped, at = blob[at : at + WRAPPED_KEY_BYTES], at + WRAPPED_KEY_BYTES
        key = self._keys.get(kid_bytes.decode(errors="replace"))
        if key is None:
            raise BlobDecryptionError(f"unknown blob key id {kid_bytes.decode(errors='replace')}")
        try:
            data_key = AESGCM(key).decrypt(wrap_nonce, wrapped, kid_bytes)
            return AESGCM(data_key).decrypt(DATA_NONCE, blob[at:], kid_bytes)
        except (InvalidTag, ValueError) as exc:
            raise BlobDecryptionError("the blob cannot be decrypted") from exc

    def put(self, prefix: str, data: bytes) -> tuple[str, str]:
        """Store the encrypted bytes; returns (key, sha256 hex of the plaintext)."""
        digest = hashlib.sha256(data).hexdigest()
        key, _ = self.inner.put(prefix, self.seal(data, digest))
        return key, digest

    def get(self, key: str) -> bytes:
        return self.open(self.inner.get(key))

    def exists(self, key: str) -> bool:
        return self.inner.exists(key)

    def delete(self, key: str) -> bool:
        delete = getattr(self.inner, "delete", None)
        if delete is None:
            raise NotImplementedError(f"{type(self.inner).__name__} cannot delete objects")
        return bool(delete(key))

    def key_id_of(self, key: str) -> str | None:
        """The key id an object is encrypted under; None for a plaintext object."""
        blob = self.inner.get(key)
        if not blob.startswith(MAGIC):
            return None
        at = len(MAGIC)
        return blob[at + 1 : at + 1 + blob[at]].decode(errors="replace")
