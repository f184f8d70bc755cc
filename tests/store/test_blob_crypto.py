"""Blobs are encrypted at rest: nothing readable on disk, the key id kept with each object,
rotation by key id, tampering detected, retried writes still a no-op."""

from __future__ import annotations

import hashlib
import hmac
import os
import tracemalloc
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from hypothesis import given, settings
from hypothesis import strategies as st

from store import blob_crypto
from store.blob_crypto import MAGIC, BlobDecryptionError, EncryptedBlobStore, UnknownBlobKey
from store.blobs import CHUNK, BlobStore, LocalBlobStore, S3BlobStore
from tests.store.conftest import CREDENTIALS, new_bucket

OLD, NEW = os.urandom(32), os.urandom(32)
SECRET = "张三 11010519900307123X 13800138000".encode()


def files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()]


def test_round_trip_with_nothing_in_clear_on_disk(tmp_path: Path) -> None:
    inner = LocalBlobStore(tmp_path)
    store = EncryptedBlobStore(inner, {"k1": OLD}, "k1")
    key, digest = store.put("documents/app_1/id_front", SECRET * 100)
    assert store.get(key) == SECRET * 100
    again, digest_again = store.put("documents/app_1/id_front", SECRET * 100)
    assert (again, digest_again) == (key, digest) and len(files(tmp_path)) == 1
    raw = inner.get(key)
    for fragment in ("张三".encode(), b"11010519900307123X", b"13800138000"):
        assert fragment not in raw
    assert store.key_id_of(key) == "k1"


def test_rotation_new_key_encrypts_old_key_still_decrypts(tmp_path: Path) -> None:
    inner = LocalBlobStore(tmp_path)
    before = EncryptedBlobStore(inner, {"k1": OLD}, "k1")
    old_key, _ = before.put("contracts/app_2", SECRET)
    rotated = EncryptedBlobStore(inner, {"k1": OLD, "k2": NEW}, "k2")
    new_key, _ = rotated.put("contracts/app_3", SECRET)
    assert (rotated.key_id_of(old_key), rotated.key_id_of(new_key)) == ("k1", "k2")
    assert rotated.get(old_key) == rotated.get(new_key) == SECRET
    retired = EncryptedBlobStore(inner, {"k2": NEW}, "k2")
    with pytest.raises(BlobDecryptionError, match="unknown blob key id"):
        retired.get(old_key)
    wrong = EncryptedBlobStore(inner, {"k2": OLD}, "k2")
    with pytest.raises(BlobDecryptionError):
        wrong.get(new_key)


def test_tampering_is_detected_and_legacy_plaintext_still_reads(tmp_path: Path) -> None:
    inner = LocalBlobStore(tmp_path)
    store = EncryptedBlobStore(inner, {"k1": OLD}, "k1")
    key, _ = store.put("documents/app_4/selfie", SECRET)
    (path,) = files(tmp_path)
    blob = bytearray(path.read_bytes())
    blob[-1] ^= 1
    path.write_bytes(bytes(blob))
    with pytest.raises(BlobDecryptionError):
        store.get(key)
    legacy, _ = inner.put("contracts/app_5", b"%PDF-1.7 written before encryption")
    assert store.get(legacy) == b"%PDF-1.7 written before encryption"
    assert store.key_id_of(legacy) is None


def test_configuration_is_checked() -> None:
    with pytest.raises(ValueError):
        EncryptedBlobStore(LocalBlobStore(Path("/tmp")), {"k1": OLD}, "k2")
    with pytest.raises(ValueError):
        EncryptedBlobStore(LocalBlobStore(Path("/tmp")), {"k1": b"short"}, "k1")


@pytest.mark.parametrize(
    "blob",
    [
        b"LFE1",
        b"LFE1\x02k",
        b"LFE1\x02k1" + b"\x00" * 12,
        b"LFE1\x02k1" + b"\x00" * 70,
        b"LFE2",
        b"LFE2\x02k",
        b"LFE2\x02k1" + b"\x00" * 62,
        b"LFE2\x02k1" + b"\x00" * 64,
    ],
    ids=[
        "magic-only",
        "short-key-id",
        "no-wrapped-key",
        "no-ciphertext",
        "v2-magic-only",
        "v2-short-key-id",
        "v2-no-chunk-size",
        "v2-zero-chunk-size",
    ],
)
def test_a_truncated_object_is_a_decryption_error(tmp_path: Path, blob: bytes) -> None:
    inner = LocalBlobStore(tmp_path)
    inner.write("documents/app_6/selfie", blob)
    store = EncryptedBlobStore(inner, {"k1": OLD}, "k1")
    with pytest.raises(BlobDecryptionError) as raised:
        store.get("documents/app_6/selfie")
    assert not isinstance(raised.value, UnknownBlobKey)


def test_an_unknown_key_id_is_told_apart_from_damage(tmp_path: Path) -> None:
    inner = LocalBlobStore(tmp_path)
    key, _ = EncryptedBlobStore(inner, {"k1": OLD}, "k1").put("contracts/app_7", SECRET)
    with pytest.raises(UnknownBlobKey, match="k1"):
        EncryptedBlobStore(inner, {"k2": NEW}, "k2").get(key)


@pytest.fixture(params=["local", "s3"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> BlobStore:
    if request.param == "local":
        return LocalBlobStore(tmp_path / "blobs")
    endpoint = request.getfixturevalue("s3_endpoint")
    return S3BlobStore(new_bucket(endpoint), "blobs", endpoint_url=endpoint, **CREDENTIALS)


def test_a_large_object_streams_in_and_out_in_chunks(backend: BlobStore, tmp_path: Path) -> None:
    video = tmp_path / "liveness.mp4"
    video.write_bytes(os.urandom(5 * CHUNK + 123))
    store = EncryptedBlobStore(backend, {"k1": OLD}, "k1")
    with video.open("rb") as source:
        key, digest = store.put_stream("documents/app_8/liveness_video", source)
    assert digest == hashlib.sha256(video.read_bytes()).hexdigest()
    chunks = list(store.open_stream(key))
    assert [len(c) for c in chunks] == [CHUNK] * 5 + [123]
    assert b"".join(chunks) == store.get(key) == video.read_bytes()
    assert backend.get(key).startswith(MAGIC) and store.key_id_of(key) == "k1"
    # the same bytes through `put` land on the same key: a retried upload stays a no-op
    assert store.put("documents/app_8/liveness_video", video.read_bytes()) == (key, digest)


@pytest.mark.parametrize("size", [0, 1, CHUNK, 2 * CHUNK], ids=["empty", "one", "1MiB", "2MiB"])
def test_chunk_boundaries_round_trip(tmp_path: Path, size: int) -> None:
    store = EncryptedBlobStore(LocalBlobStore(tmp_path), {"k1": OLD}, "k1")
    data = os.urandom(size)
    key, _ = store.put("documents/app_9/selfie", data)
    assert store.get(key) == data
    assert len(list(store.open_stream(key))) == max(1, -(-size // CHUNK))


def test_memory_stays_far_below_the_object_size(tmp_path: Path) -> None:
    size = 24 * CHUNK
    video = tmp_path / "liveness.mp4"
    video.write_bytes(os.urandom(size))
    store = EncryptedBlobStore(LocalBlobStore(tmp_path / "blobs"), {"k1": OLD}, "k1")
    tracemalloc.start()
    try:
        with video.open("rb") as source:
            key, _ = store.put_stream("documents/app_10/liveness_video", source)
        _, put_peak = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        read = hashlib.sha256()
        for chunk in store.open_stream(key):
            read.update(chunk)
        _, read_peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert read.hexdigest() == hashlib.sha256(video.read_bytes()).hexdigest()
    # a few chunks in flight, whatever the object's size
    assert put_peak < 6 * CHUNK and read_peak < 6 * CHUNK, (put_peak, read_peak)


def _stored(tmp_path: Path, chunks: int = 4) -> tuple[EncryptedBlobStore, str, Path, int]:
    """A sealed object of `chunks` chunks (the last one short), its file and its header size."""
    store = EncryptedBlobStore(LocalBlobStore(tmp_path), {"k1": OLD}, "k1")
    key, _ = store.put("documents/app_11/liveness_video", os.urandom((chunks - 1) * CHUNK + 99))
    (path,) = files(tmp_path)
    header = len(MAGIC) + 1 + len("k1") + 12 + 48 + 4
    return store, key, path, header


RECORD = CHUNK + 16


def _flip_middle(blob: bytes, header: int) -> bytes:
    at = header + RECORD + RECORD // 2
    return blob[:at] + bytes([blob[at] ^ 1]) + blob[at + 1 :]


def _swap_first_two(blob: bytes, header: int) -> bytes:
    first, second = blob[header : header + RECORD], blob[header + RECORD : header + 2 * RECORD]
    return blob[:header] + second + first + blob[header + 2 * RECORD :]


@pytest.mark.parametrize(
    ("tamper", "good_chunks"),
    [
        (_flip_middle, 1),
        (lambda blob, header: blob[:-10], 3),
        (lambda blob, header: blob[: header + 3 * RECORD], 2),
        (lambda blob, header: blob + blob[-RECORD:], 3),
        (_swap_first_two, 0),
        (lambda blob, header: blob[:header], 0),
    ],
    ids=["flipped-middle", "truncated-last", "dropped-last", "appended", "swapped", "no-chunks"],
)
def test_a_tampered_chunk_fails_before_it_is_yielded(
    tmp_path: Path, tamper: Callable[[bytes, int], bytes], good_chunks: int
) -> None:
    store, key, path, header = _stored(tmp_path)
    path.write_bytes(tamper(path.read_bytes(), header))
    received: list[bytes] = []
    with pytest.raises(BlobDecryptionError) as raised:
        received.extend(store.open_stream(key))
    assert not isinstance(raised.value, UnknownBlobKey)
    assert [len(c) for c in received] == [CHUNK] * good_chunks
    with pytest.raises(BlobDecryptionError):
        store.get(key)


def test_a_stream_under_an_unknown_or_wrong_key_fails_before_any_chunk(tmp_path: Path) -> None:
    _, key, _, _ = _stored(tmp_path, chunks=2)
    with pytest.raises(UnknownBlobKey, match="k1"):
        EncryptedBlobStore(LocalBlobStore(tmp_path), {"k2": NEW}, "k2").open_stream(key)
    with pytest.raises(BlobDecryptionError):
        EncryptedBlobStore(LocalBlobStore(tmp_path), {"k1": NEW}, "k1").open_stream(key)


def _lfe1(key: bytes, kid: str, data: bytes) -> bytes:
    """An object as the LFE1 writer sealed it: one ciphertext for the whole object."""
    digest = hashlib.sha256(data).hexdigest().encode()
    kid_bytes = kid.encode()

    def derive(label: bytes) -> bytes:
        return hmac.new(key, label + kid_bytes + b"|" + digest, hashlib.sha256).digest()

    data_key, wrap_nonce = derive(b"data-key|"), derive(b"wrap-nonce|")[:12]
    wrapped = AESGCM(key).encrypt(wrap_nonce, data_key, kid_bytes)
    sealed = AESGCM(data_key).encrypt(b"\x00" * 12, data, kid_bytes)
    return b"LFE1" + bytes([len(kid_bytes)]) + kid_bytes + wrap_nonce + wrapped + sealed


def test_lfe1_objects_still_read_whole_and_streamed(tmp_path: Path) -> None:
    inner = LocalBlobStore(tmp_path)
    data = SECRET * 1000
    inner.write("contracts/app_12", _lfe1(OLD, "k1", data))
    store = EncryptedBlobStore(inner, {"k1": OLD, "k2": NEW}, "k2")
    assert store.get("contracts/app_12") == b"".join(store.open_stream("contracts/app_12")) == data
    assert store.key_id_of("contracts/app_12") == "k1"
    inner.write("contracts/app_13", _lfe1(OLD, "k1", data)[:-1])
    with pytest.raises(BlobDecryptionError):
        store.get("contracts/app_13")


class _Split:
    """An inner store that hands an object back in pieces of arbitrary sizes."""

    def __init__(self, blob: bytes, cuts: list[int]) -> None:
        self.blob, self.cuts = blob, sorted({c % (len(blob) + 1) for c in cuts})

    def open_stream(self, key: str) -> Iterator[bytes]:
        edges = [0, *self.cuts, len(self.blob)]
        return iter([self.blob[a:b] for a, b in zip(edges, edges[1:], strict=False) if b > a])


@settings(max_examples=60, deadline=None)
@given(
    size=st.integers(0, 5 * 64 + 3),
    cuts=st.lists(st.integers(0, 10_000), max_size=12),
    tamper=st.integers(0, 10_000) | st.none(),
)
def test_any_split_of_the_object_reads_back_and_any_flipped_byte_is_refused(
    size: int, cuts: list[int], tamper: int | None
) -> None:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(blob_crypto, "CHUNK", 64)  # many chunks from a small object
        data = os.urandom(size)
        sealed = EncryptedBlobStore(LocalBlobStore(Path("/tmp")), {"k1": OLD}, "k1").seal(data)
    if tamper is not None:  # past the magic: an object without one is legacy plaintext
        at = len(MAGIC) + tamper % (len(sealed) - len(MAGIC))
        sealed = sealed[:at] + bytes([sealed[at] ^ 0x80]) + sealed[at + 1 :]
    store = EncryptedBlobStore(_Split(sealed, cuts), {"k1": OLD}, "k1")  # type: ignore[arg-type]
    if tamper is None:
        chunks = list(store.open_stream("k"))
        assert b"".join(chunks) == data and len(chunks) == max(1, -(-size // 64))
    else:
        with pytest.raises(BlobDecryptionError):
            list(store.open_stream("k"))
