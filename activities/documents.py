"""Reading a stored document back (ID card sides, selfie, liveness video, contract PDFs) for the
identity, contract and e-sign steps: a document that is missing, damaged or encrypted under a
key id the worker lacks reads the same on every retry, so the step fails for good with a reason
ops can see; an unreachable blob store stays retryable."""

from __future__ import annotations

import hashlib
from typing import IO

from temporalio import activity
from temporalio.exceptions import ApplicationError

from domain.naming import ErrorType
from store.blob_crypto import BlobDecryptionError, UnknownBlobKey
from store.blobs import BlobNotFound, BlobStore


def read_blob(blobs: BlobStore, key: str, what: str) -> bytes:
    """The bytes under `key`, or a non-retryable failure saying why not; `what` names the
    document in the reason, never its content."""
    try:
        return blobs.get(key)
    except (BlobNotFound, BlobDecryptionError) as exc:
        raise _unreadable(exc, key, what) from None


def copy_blob(blobs: BlobStore, key: str, what: str, sink: IO[bytes]) -> str:
    """`read_blob` into `sink` chunk by chunk (a liveness video is never held whole); returns
    the sha256 hex of what was written."""
    digest = hashlib.sha256()
    try:
        for chunk in blobs.open_stream(key):
            digest.update(chunk)
            sink.write(chunk)
    except (BlobNotFound, BlobDecryptionError) as exc:
        raise _unreadable(exc, key, what) from None
    sink.flush()
    return digest.hexdigest()


def _unreadable(exc: Exception, key: str, what: str) -> ApplicationError:
    if isinstance(exc, BlobNotFound):
        reason, kind = f"{what} is not in the blob store", ErrorType.BAD_DOCUMENT
    elif isinstance(exc, UnknownBlobKey):
        reason = f"{what} is encrypted under a blob key id this worker is not configured with"
        kind = ErrorType.BLOB_UNREADABLE
    else:
        reason, kind = f"{what} is damaged in the blob store", ErrorType.BLOB_UNREADABLE
    activity.logger.error("%s: %s", reason, key)
    return ApplicationError(reason, type=kind, non_retryable=True)
