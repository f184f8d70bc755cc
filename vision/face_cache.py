"""Face encodings shared between the vision activities of one worker, across its process pool.

Not computer vision itself: a small cache keyed by document hash, kept apart from the activities
so that the worker can hand one shared mapping to every process.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, MutableMapping

import numpy as np


class FaceEncodingCache:
    """Face encodings by document hash: check_liveness leaves the best frame's and
    inspect_id_card the portrait's, and match_faces reuses them instead of decoding again. A pure
    function of the bytes, so a miss (another worker, eviction) only costs time. The entries
    live in `store`: a plain dict for one process, a multiprocessing manager's dict shared by
    the worker's process pool (see workers.vision); oldest entries go first."""

    def __init__(self, store: MutableMapping[str, bytes] | None = None, size: int = 256) -> None:
        self._store: MutableMapping[str, bytes] = {} if store is None else store
        self._size = size
        self._lock = threading.Lock()

    def get(self, key: str) -> tuple[bool, np.ndarray | None]:
        data = self._store.get(key)
        if data is None:
            return False, None
        return True, (np.frombuffer(data, dtype=np.float64).copy() if data else None)

    def put(self, key: str, value: np.ndarray | None) -> None:
        with self._lock:
            self._store[key] = b"" if value is None else np.asarray(value, np.float64).tobytes()
            for stale in list(self._store.keys())[: max(0, len(self._store) - self._size)]:
                self._store.pop(stale, None)

    def clear(self) -> None:
        self._store.clear()

    def __getstate__(self) -> dict[str, object]:
        return {"store": self._store, "size": self._size}

    def __setstate__(self, state: dict) -> None:
        self.__init__(state["store"], state["size"])  # type: ignore[misc]


class PrefixedMapping(MutableMapping[str, bytes]):
    """A view of a shared mapping holding only the keys under one prefix."""

    def __init__(self, store: MutableMapping[str, bytes], prefix: str) -> None:
        self._store, self._prefix = store, prefix

    def __getitem__(self, key: str) -> bytes:
        return self._store[self._prefix + key]

    def __setitem__(self, key: str, value: bytes) -> None:
        self._store[self._prefix + key] = value

    def __delitem__(self, key: str) -> None:
        del self._store[self._prefix + key]

    def __iter__(self) -> Iterator[str]:
        return (
            k[len(self._prefix) :] for k in list(self._store.keys()) if k.startswith(self._prefix)
        )

    def __len__(self) -> int:
        return sum(1 for _ in self)
