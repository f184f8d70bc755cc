"""Blob store for documents, videos and contracts: a local folder by default.

Keys are content-addressed under a prefix (`{prefix}/{sha256}`), so a retried write of the same
bytes is a no-op and a key can never point at different content.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path
from typing import Protocol


class BlobNotFound(KeyError):
    pass


class BlobStore(Protocol):
    def put(self, prefix: str, data: bytes) -> tuple[str, str]: ...

    def get(self, key: str) -> bytes: ...

    def exists(self, key: str) -> bool: ...


class LocalBlobStore:
    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)

    def _path(self, key: str) -> Path:
        path = (self.root / key).resolve()
        if self.root.resolve() not in path.parents:
            raise BlobNotFound(key)
        return path

    def put(self, prefix: str, data: bytes) -> tuple[str, str]:
        """Store bytes; returns (key, sha256 hex)."""
        digest = hashlib.sha256(data).hexdigest()
        key = f"{prefix.strip('/')}/{digest}"
        path = self._path(key)
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent)
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            os.replace(tmp, path)
        return key, digest

    def get(self, key: str) -> bytes:
        path = self._path(key)
        if not path.is_file():
            raise BlobNotFound(key)
        return path.read_bytes()

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def delete(self, key: str) -> bool:
        """Remove the object; False when there was none (retention jobs run more than once)."""
        path = self._path(key)
        if not path.is_file():
            return False
        path.unlink()
        return True
