"""Encryption at rest for the blob store (ID card images, selfies, liveness videos, contracts):
envelope encryption around any object with the `BlobStore` interface, streamed.

Each object has a data key of its own that encrypts it (AES-256-GCM); the data key is stored
with the object, wrapped (AES-256-GCM) by a key from configuration, whose id is stored too. A new
key id encrypts new objects while the old ids still decrypt theirs: rotation is adding a key,
switching `blob_key_id`, and (optionally) rewriting old objects.

The data key and nonces are derived from the key and the content's digest (HMAC), so the same
bytes under the same key encrypt to the same object: the inner store's content addressing still
makes a retried write a no-op and keeps the contract's "same input, same key". A data key is
then used for exactly one plaintext, which is what makes its derived nonces safe.

Object layout, `LFE2` (written): MAGIC | key id length (1 byte) | key id | wrap nonce (12) |
wrapped data key (48) | chunk size (4, big-endian) | sealed chunks. The plaintext is cut into
chunks of `CHUNK` bytes, each sealed on its own (ciphertext and tag) with the chunk's index as
nonce and, as associated data, the header, the index and whether it is the last chunk: a
reordered, swapped, dropped, truncated or appended chunk fails its tag, and a chunk is checked
before it is handed out, so an object streams in and out in constant memory.

Read as well: `LFE1`, the same header without the chunk size and one sealed ciphertext for the
whole object; and an object without either magic, a plaintext object written before encryption
was enabled (still readable, and logged, so that a deployment can migrate).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import tempfile
from collections import deque
from collections.abc import Iterable, Iterator, Mapping
from io import BytesIO
from typing import IO

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from store.blobs import CHUNK, BlobExists, BlobStore, file_chunks, file_digest

logger = logging.getLogger(__name__)

MAGIC = b"LFE2"
MAGIC_V1 = b"LFE1"
NONCE_BYTES = 12
DATA_NONCE = b"\x00" * NONCE_BYTES
TAG_BYTES = 16
WRAPPED_KEY_BYTES = 32 + TAG_BYTES
# A damaged chunk-size field must not make a reader buffer an unbounded record.
MAX_CHUNK = 16 * CHUNK


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

    def seal_chunks(self, source: IO[bytes], digest: str) -> Iterator[bytes]:
        """The `LFE2` object of the plaintext read from `source` (whose sha256 is `digest`):
        the header, then one sealed chunk at a time."""
        kid = self._key_id
        kid_bytes = kid.encode()
        # Labels of their own: an LFE1 object of the same content used the LFE1 labels, and a
        # (key, nonce) pair must never seal two different messages.
        data_key = self._derive(kid, b"data-key-v2|", digest)
        wrap_nonce = self._derive(kid, b"wrap-nonce-v2|", digest)[:NONCE_BYTES]
        wrapped = AESGCM(self._keys[kid]).encrypt(wrap_nonce, data_key, MAGIC + kid_bytes)
        header = (
            MAGIC + bytes([len(kid_bytes)]) + kid_bytes + wrap_nonce + wrapped
            + CHUNK.to_bytes(4, "big")
        )  # fmt: skip
        yield header
        aead = AESGCM(data_key)
        index, current = 0, _read_exact(source, CHUNK)
        while following := _read_exact(source, CHUNK):
            yield aead.encrypt(_nonce(index), current, _aad(header, index, final=False))
            index, current = index + 1, following
        yield aead.encrypt(_nonce(index), current, _aad(header, index, final=True))

    def seal(self, data: bytes, digest: str | None = None) -> bytes:
        digest = digest or hashlib.sha256(data).hexdigest()
        return b"".join(self.seal_chunks(BytesIO(data), digest))

    def open(self, blob: bytes) -> bytes:
        return b"".join(self._open_reader(_Reader(iter([blob]))))

    def open_stream(self, key: str) -> Iterator[bytes]:
        """The object's plaintext in verified chunks. The header is read and the data key
        unwrapped before this returns (a missing object, an unknown key id or a damaged header
        raise here); a chunk that fails its tag raises `BlobDecryptionError` instead of being
        yielded."""
        reader = _Reader(self.inner.open_stream(key))
        try:
            return self._open_reader(reader)
        except BaseException:
            reader.close()
            raise

    def _open_reader(self, reader: _Reader) -> Iterator[bytes]:
        magic = reader.read(len(MAGIC))
        if magic == MAGIC:
            aead, header, chunk_size = self._open_header(reader)
            return _open_chunks(reader, aead, header, chunk_size)
        if magic == MAGIC_V1:
            with reader:
                return iter([self._open_v1(magic + reader.read_all())])
        logger.warning("plaintext blob read: written before encryption at rest")
        return reader.rest(magic)

    def _open_header(self, reader: _Reader) -> tuple[AESGCM, bytes, int]:
        kid_length = reader.read(1)
        kid_bytes = reader.read(kid_length[0]) if kid_length else b""
        wrap_nonce = reader.read(NONCE_BYTES)
        wrapped = reader.read(WRAPPED_KEY_BYTES)
        size = reader.read(4)
        if not kid_bytes or len(kid_bytes) < kid_length[0] or len(size) < 4:
            raise BlobDecryptionError("the blob is truncated")
        header = MAGIC + kid_length + kid_bytes + wrap_nonce + wrapped + size
        chunk_size = int.from_bytes(size, "big")
        if not 0 < chunk_size <= MAX_CHUNK:
            raise BlobDecryptionError("the blob's chunk size is damaged")
        data_key = self._unwrap(kid_bytes, wrap_nonce, wrapped, MAGIC + kid_bytes)
        return AESGCM(data_key), header, chunk_size

    def _unwrap(self, kid_bytes: bytes, nonce: bytes, wrapped: bytes, aad: bytes) -> bytes:
        kid = kid_bytes.decode(errors="replace")
        key = self._keys.get(kid)
        if key is None:
            raise UnknownBlobKey(f"unknown blob key id {kid}")
        try:
            return AESGCM(key).decrypt(nonce, wrapped, aad)
        except (InvalidTag, ValueError) as exc:
            raise BlobDecryptionError("the blob cannot be decrypted") from exc

    def _open_v1(self, blob: bytes) -> bytes:
        kid_bytes, wrap_nonce, wrapped, at = _header_v1(blob)
        data_key = self._unwrap(kid_bytes, wrap_nonce, wrapped, kid_bytes)
        try:
            return AESGCM(data_key).decrypt(DATA_NONCE, blob[at:], kid_bytes)
        except (InvalidTag, ValueError) as exc:
            raise BlobDecryptionError("the blob cannot be decrypted") from exc

    def put(self, prefix: str, data: bytes) -> tuple[str, str]:
        """Store the encrypted bytes; returns (key, sha256 hex of the plaintext)."""
        return self.put_stream(prefix, BytesIO(data))

    def put_stream(self, prefix: str, source: IO[bytes]) -> tuple[str, str]:
        """Store a seekable source encrypted, chunk by chunk; returns (key, sha256 hex of the
        plaintext). The key is the digest of the encrypted object, as `put`'s always was (the
        plaintext's digest would let anyone who lists the bucket confirm a guessed document):
        the ciphertext is hashed while it is spooled to a temporary file, then copied to the
        backend."""
        digest = file_digest(source)
        ciphertext = hashlib.sha256()
        with tempfile.SpooledTemporaryFile(max_size=CHUNK) as spool:
            for part in self.seal_chunks(source, digest):
                ciphertext.update(part)
                spool.write(part)
            spool.seek(0)
            key = f"{prefix.strip('/')}/{ciphertext.hexdigest()}"
            try:
                self.inner.write_stream(key, file_chunks(spool))
            except BlobExists:
                pass  # same key, so the same content: a retry of an earlier put
        return key, digest

    def write(self, key: str, data: bytes) -> None:
        self.inner.write(key, self.seal(data))

    def write_stream(self, key: str, chunks: Iterable[bytes]) -> None:
        with tempfile.SpooledTemporaryFile(max_size=CHUNK) as spool:
            for chunk in chunks:
                spool.write(chunk)
            digest = file_digest(spool)
            self.inner.write_stream(key, self.seal_chunks(spool, digest))

    def get(self, key: str) -> bytes:
        return b"".join(self.open_stream(key))

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
        with _Reader(self.inner.open_stream(key)) as reader:
            if reader.read(len(MAGIC)) not in (MAGIC, MAGIC_V1):
                return None
            kid_length = reader.read(1)
            return reader.read(kid_length[0] if kid_length else 0).decode(errors="replace")


def _nonce(index: int) -> bytes:
    return index.to_bytes(NONCE_BYTES, "big")


def _aad(header: bytes, index: int, *, final: bool) -> bytes:
    return header + index.to_bytes(8, "big") + (b"\x01" if final else b"\x00")


def _open_chunks(reader: _Reader, aead: AESGCM, header: bytes, chunk_size: int) -> Iterator[bytes]:
    with reader:
        yield from _verified_chunks(reader, aead, header, chunk_size)


def _verified_chunks(
    reader: _Reader, aead: AESGCM, header: bytes, chunk_size: int
) -> Iterator[bytes]:
    index = 0
    while True:
        record = reader.read(chunk_size + TAG_BYTES)
        final = reader.at_end()
        if len(record) < TAG_BYTES:
            raise BlobDecryptionError("the blob is truncated")
        try:
            plain = aead.decrypt(_nonce(index), record, _aad(header, index, final=final))
        except InvalidTag as exc:
            raise BlobDecryptionError(f"chunk {index} of the blob cannot be decrypted") from exc
        yield plain
        if final:
            return
        index += 1


def _read_exact(source: IO[bytes], size: int) -> bytes:
    """Up to `size` bytes, fewer only at the end (a pipe or socket may return short reads)."""
    data = source.read(size)
    while data and len(data) < size and (more := source.read(size - len(data))):
        data += more
    return data


class _Reader:
    """Exact-size reads over an iterator of chunks of any size (each byte copied once)."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self._chunks = chunks
        self._pending: deque[bytes] = deque()
        self._pending_bytes = 0

    def _fill(self, size: int) -> None:
        while self._pending_bytes < size:
            chunk = next(self._chunks, None)
            if chunk is None:
                return
            self._pending.append(chunk)
            self._pending_bytes += len(chunk)

    def read(self, size: int) -> bytes:
        self._fill(size)
        parts: list[bytes] = []
        wanted = size
        while wanted and self._pending:
            chunk = self._pending.popleft()
            if len(chunk) > wanted:
                self._pending.appendleft(chunk[wanted:])
                chunk = chunk[:wanted]
            parts.append(chunk)
            wanted -= len(chunk)
        data = parts[0] if len(parts) == 1 else b"".join(parts)
        self._pending_bytes -= len(data)
        return data

    def at_end(self) -> bool:
        self._fill(1)
        return not self._pending_bytes

    def read_all(self) -> bytes:
        return b"".join(self.rest(b""))

    def rest(self, head: bytes) -> Iterator[bytes]:
        pending = [head, *self._pending]
        self._pending.clear()
        self._pending_bytes = 0
        with self:
            yield from (chunk for chunk in pending if chunk)
            yield from self._chunks

    def close(self) -> None:
        close = getattr(self._chunks, "close", None)
        if close is not None:
            close()

    def __enter__(self) -> _Reader:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def _header_v1(blob: bytes) -> tuple[bytes, bytes, bytes, int]:
    """(key id, wrap nonce, wrapped data key, offset of the ciphertext) of an LFE1 object."""
    at = len(MAGIC_V1)
    kid_length = blob[at] if len(blob) > at else 0
    kid_bytes = blob[at + 1 : at + 1 + kid_length]
    at += 1 + kid_length
    wrap_nonce, at = blob[at : at + NONCE_BYTES], at + NONCE_BYTES
    wrapped, at = blob[at : at + WRAPPED_KEY_BYTES], at + WRAPPED_KEY_BYTES
    if not kid_length or len(blob) < at + TAG_BYTES:
        raise BlobDecryptionError("the blob is truncated")
    return kid_bytes, wrap_nonce, wrapped, at
