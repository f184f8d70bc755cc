"""Blob store for documents, videos and contracts: a local folder by default, an S3-compatible
bucket when several hosts must share the blobs. `open_blob_store(settings)` picks the backend
from `LOANFLOW_BLOB_URL` (`file:///path` or `s3://bucket/prefix`); every process builds its
store through it.

Keys are write-once: `write` refuses a key that already exists (`BlobExists`; a conditional
`If-None-Match: *` PUT on S3, a hard link on a folder), so nothing stored is ever replaced.
`put` derives the key from the content (`{prefix}/{sha256}`): a retried write of the same bytes
finds its key taken by identical content and returns it, and a key never points at two contents.

Large objects (a liveness video) flow without being held whole: `put_stream` hashes a seekable
source in a first pass and then writes it chunk by chunk (`write_stream`), and `open_stream`
yields the object in chunks of at most `CHUNK` bytes.

Errors: `BlobNotFound` (a missing key, a key outside the store), `BlobExists` (a second write),
`BlobStoreUnavailable` (the backend cannot be reached: the caller answers 503 or retries).
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Protocol
from urllib.parse import unquote, urlparse

if TYPE_CHECKING:
    from config.settings import Settings


CHUNK = 1024 * 1024


class BlobNotFound(KeyError):
    pass


class BlobExists(FileExistsError):
    """A second write to a write-once key."""


class BlobStoreUnavailable(ConnectionError):
    pass


class BlobStore(Protocol):
    def put(self, prefix: str, data: bytes) -> tuple[str, str]: ...

    def write(self, key: str, data: bytes) -> None: ...

    def get(self, key: str) -> bytes: ...

    def put_stream(self, prefix: str, source: IO[bytes]) -> tuple[str, str]: ...

    def write_stream(self, key: str, chunks: Iterable[bytes]) -> None: ...

    def open_stream(self, key: str) -> Iterator[bytes]: ...

    def exists(self, key: str) -> bool: ...

    def delete(self, key: str) -> bool: ...

    def ping(self) -> None: ...


def content_key(prefix: str, data: bytes) -> tuple[str, str]:
    digest = hashlib.sha256(data).hexdigest()
    return f"{prefix.strip('/')}/{digest}", digest


def file_digest(source: IO[bytes]) -> str:
    """sha256 hex of a seekable source from its start, which is where it is left."""
    source.seek(0)
    digest = hashlib.sha256()
    while chunk := source.read(CHUNK):
        digest.update(chunk)
    source.seek(0)
    return digest.hexdigest()


def file_chunks(source: IO[bytes]) -> Iterator[bytes]:
    while chunk := source.read(CHUNK):
        yield chunk


class ChunkStream(Iterator[bytes]):
    """An open object read in chunks; closed when read to the end, on a failed read, or by
    `close()` (a reader that stops early, even before the first chunk)."""

    def __init__(self, read: Callable[[], bytes], close: Callable[[], object]) -> None:
        self._read = read
        self._close = close
        self._closed = False

    def __next__(self) -> bytes:
        if self._closed:
            raise StopIteration
        try:
            chunk = self._read()
        except BaseException:
            self.close()
            raise
        if not chunk:
            self.close()
            raise StopIteration
        return chunk

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._close()


def _check_key(key: str) -> str:
    parts = key.split("/")
    if not key or key.startswith("/") or any(p in ("", ".", "..") for p in parts):
        raise BlobNotFound(key)
    return key


class _ContentAddressed:
    def write(self, key: str, data: bytes) -> None:
        self.write_stream(key, [data])

    def write_stream(self, key: str, chunks: Iterable[bytes]) -> None:
        raise NotImplementedError

    def put_stream(self, prefix: str, source: IO[bytes]) -> tuple[str, str]:
        """Store a seekable source under its digest without holding it whole; returns
        (key, sha256 hex)."""
        digest = file_digest(source)
        key = f"{prefix.strip('/')}/{digest}"
        try:
            self.write_stream(key, file_chunks(source))
        except BlobExists:
            pass  # same key, so the same content: a retry of an earlier put
        return key, digest

    def put(self, prefix: str, data: bytes) -> tuple[str, str]:
        """Store bytes under their digest; returns (key, sha256 hex)."""
        key, digest = content_key(prefix, data)
        try:
            self.write(key, data)
        except BlobExists:
            pass  # same key, so the same content: a retry of an earlier put
        return key, digest


class LocalBlobStore(_ContentAddressed):
    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)

    def _path(self, key: str) -> Path:
        path = (self.root / _check_key(key)).resolve()
        if self.root.resolve() not in path.parents:
            raise BlobNotFound(key)
        return path

    def write_stream(self, key: str, chunks: Iterable[bytes]) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as handle:
                for chunk in chunks:
                    handle.write(chunk)
            # link, unlike rename, fails when the target exists: readers never see a partial
            # file and two writers cannot both win
            os.link(tmp, path)
        except FileExistsError:
            raise BlobExists(key) from None
        finally:
            os.unlink(tmp)

    def get(self, key: str) -> bytes:
        path = self._path(key)
        if not path.is_file():
            raise BlobNotFound(key)
        return path.read_bytes()

    def open_stream(self, key: str) -> ChunkStream:
        path = self._path(key)
        try:
            handle = path.open("rb")
        except (FileNotFoundError, IsADirectoryError):
            raise BlobNotFound(key) from None
        return ChunkStream(lambda: handle.read(CHUNK), handle.close)

    def exists(self, key: str) -> bool:
        try:
            return self._path(key).is_file()
        except BlobNotFound:
            return False

    def delete(self, key: str) -> bool:
        """Remove the object; False when there was none (retention jobs run more than once)."""
        path = self._path(key)
        if not path.is_file():
            return False
        path.unlink()
        return True

    def ping(self) -> None:
        if not os.access(self.root, os.W_OK):
            raise BlobStoreUnavailable(f"{self.root} is not writable")


class S3BlobStore(_ContentAddressed):
    """Objects in one bucket under a key prefix, through boto3 (AWS S3 or any S3-compatible
    server: SeaweedFS, Garage, Ceph RGW). `server_side_encryption` (`AES256` or `aws:kms`) is
    asked of the server on every write; client-side envelope encryption wraps the store."""

    def __init__(
        self,
        bucket: str,
        prefix: str = "",
        *,
        endpoint_url: str | None = None,
        region: str | None = None,
        access_key_id: str | None = None,
        secret_access_key: str | None = None,
        server_side_encryption: str | None = None,
        timeout_seconds: float = 10.0,
    ) -> None:
        import boto3
        from botocore.config import Config

        self.bucket = bucket
        self.prefix = prefix.strip("/")
        self.server_side_encryption = server_side_encryption or None
        self.client: Any = boto3.client(
            "s3",
            endpoint_url=endpoint_url or None,
            region_name=region or None,
            aws_access_key_id=access_key_id or None,
            aws_secret_access_key=secret_access_key or None,
            config=Config(
                connect_timeout=timeout_seconds,
                read_timeout=timeout_seconds,
                retries={"max_attempts": 3, "mode": "standard"},
                # path-style: S3-compatible servers rarely have per-bucket DNS names
                s3={"addressing_style": "path"},
            ),
        )

    def _key(self, key: str) -> str:
        _check_key(key)
        return f"{self.prefix}/{key}" if self.prefix else key

    def _call(self, method: str, key: str, **kwargs: Any) -> Any:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return getattr(self.client, method)(Bucket=self.bucket, **kwargs)
        except ClientError as exc:
            error = exc.response.get("Error", {})
            code = str(error.get("Code", ""))
            status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            if code in ("NoSuchKey", "404", "NotFound") or status == 404:
                raise BlobNotFound(key) from None
            if code in ("PreconditionFailed", "ConditionalRequestConflict") or status in (
                409,
                412,
            ):
                raise BlobExists(key) from None
            raise BlobStoreUnavailable(f"S3 {method} failed: {code or status}") from None
        except BotoCoreError as exc:
            raise BlobStoreUnavailable(f"S3 {method} failed: {type(exc).__name__}") from None

    def write(self, key: str, data: bytes) -> None:
        self._put_object(key, data)

    def write_stream(self, key: str, chunks: Iterable[bytes]) -> None:
        # Spooled to disk and sent as one conditional PUT, which botocore streams from the file:
        # the write stays write-once (If-None-Match: *) on every S3-compatible server, where a
        # conditional multipart completion is not yet supported everywhere.
        with tempfile.TemporaryFile() as spool:
            for chunk in chunks:
                spool.write(chunk)
            spool.seek(0)
            self._put_object(key, spool)

    def _put_object(self, key: str, body: bytes | IO[bytes]) -> None:
        extra = {"ServerSideEncryption": self.server_side_encryption}
        self._call(
            "put_object",
            key,
            Key=self._key(key),
            Body=body,
            IfNoneMatch="*",
            **{k: v for k, v in extra.items() if v},
        )

    def get(self, key: str) -> bytes:
        response = self._call("get_object", key, Key=self._key(key))
        body: bytes = response["Body"].read()
        return body

    def open_stream(self, key: str) -> ChunkStream:
        from botocore.exceptions import BotoCoreError

        body = self._call("get_object", key, Key=self._key(key))["Body"]

        def read() -> bytes:
            try:
                chunk: bytes = body.read(CHUNK)
            except BotoCoreError as exc:
                raise BlobStoreUnavailable(f"S3 read failed: {type(exc).__name__}") from None
            return chunk

        return ChunkStream(read, body.close)

    def exists(self, key: str) -> bool:
        try:
            self._call("head_object", key, Key=self._key(key))
        except BlobNotFound:
            return False
        return True

    def delete(self, key: str) -> bool:
        """Remove the object; False when there was none (retention jobs run more than once)."""
        if not self.exists(key):
            return False
        self._call("delete_object", key, Key=self._key(key))
        return True

    def ping(self) -> None:
        try:
            self._call("head_bucket", "")
        except BlobNotFound:
            raise BlobStoreUnavailable(f"bucket {self.bucket} does not exist") from None


def open_backend(settings: Settings) -> BlobStore:
    """The blob store the settings name: `file://` (default: the data dir's blobs folder) or
    `s3://bucket/prefix` with the `LOANFLOW_S3_*` endpoint, region and credentials."""
    url = settings.blob_url or settings.resolved_blob_dir.resolve().as_uri()
    parsed = urlparse(url)
    if parsed.scheme == "file":
        return LocalBlobStore(Path(unquote(parsed.path)))
    if parsed.scheme == "s3":
        if not parsed.netloc:
            raise ValueError(f"blob url {url!r} names no bucket")
        return S3BlobStore(
            parsed.netloc,
            parsed.path,
            endpoint_url=settings.s3_endpoint_url,
            region=settings.s3_region,
            access_key_id=settings.s3_access_key_id,
            secret_access_key=settings.s3_secret_access_key,
            server_side_encryption=settings.s3_server_side_encryption,
        )
    raise ValueError(f"blob url {url!r}: expected file:// or s3://")


def open_blob_store(settings: Settings) -> BlobStore:
    """The store every process uses: the configured backend under envelope encryption
    (`store.blob_crypto`), so nothing personal is written in clear to a folder or a bucket."""
    from store.blob_crypto import EncryptedBlobStore

    return EncryptedBlobStore(open_backend(settings), settings.blob_keys, settings.blob_key_id)


def main() -> None:
    """`python -m store.blobs ensure`: create the configured bucket if it is missing, then check
    the store answers (the compose job that runs before the services start)."""
    import argparse

    from config.settings import get_settings

    parser = argparse.ArgumentParser(prog="python -m store.blobs", description=main.__doc__)
    parser.add_argument("command", choices=["ensure", "check"])
    args = parser.parse_args()
    store = open_backend(get_settings())
    if args.command == "ensure" and isinstance(store, S3BlobStore):
        try:
            store.ping()
        except BlobStoreUnavailable:
            store.client.create_bucket(Bucket=store.bucket)
    store.ping()
    print(f"blob store ready: {type(store).__name__}")


if __name__ == "__main__":
    main()
