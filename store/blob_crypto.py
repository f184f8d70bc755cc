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
TAG_BYTES = 16
WRAPPED_KEY_BYTES = 32 + TAG_BYTES


class BlobDecryptionError(ValueError):
    """The object is damaged (truncated, altered, or under the wrong key): retrying will not
    read it."""


class UnknownBlobKey(BlobDecryptionError):
    """The object was encrypted under a key id this process is not configured with: the
    configuration, not the object, must change."""


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
        kid_bytes, wrap_nonce, wrapped, at = _header(blob)
        kid = kid_bytes.decode(errors="replace")
        key = self._keys.get(kid)
        if key is None:
            raise UnknownBlobKey(f"unknown blob key id {kid}")
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

    def write(self, key: str, data: bytes) -> None:
        self.inner.write(key, self.seal(data))

    def get(self, key: str) -> bytes:
        return self.open(self.inner.get(key))

    def ping(self) -> None:
        self.inner.ping()

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
        return _header(blob)[0].decode(errors="replace")


def _header(blob: bytes) -> tuple[bytes, bytes, bytes, int]:
    """(key id, wrap nonce, wrapped data key, offset of the ciphertext) of a sealed object."""
    at = len(MAGIC)
    kid_length = blob[at] if len(blob) > at else 0
    kid_bytes = blob[at + 1 : at + 1 + kid_length]
    at += 1 + kid_length
    wrap_nonce, at = blob[at : at + NONCE_BYTES], at + NONCE_BYTES
    wrapped, at = blob[at : at + WRAPPED_KEY_BYTES], at + WRAPPED_KEY_BYTES
    if not kid_length or len(blob) < at + TAG_BYTES:
        raise BlobDecryptionError("the blob is truncated")
    return kid_bytes, wrap_nonce, wrapped, at
