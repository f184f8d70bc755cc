"""Blobs are encrypted at rest: nothing readable on disk, the key id kept with each object,
rotation by key id, tampering detected, retried writes still a no-op."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from store.blob_crypto import BlobDecryptionError, EncryptedBlobStore, UnknownBlobKey
from store.blobs import LocalBlobStore

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
    [b"LFE1", b"LFE1\x02k", b"LFE1\x02k1" + b"\x00" * 12, b"LFE1\x02k1" + b"\x00" * 70],
    ids=["magic-only", "short-key-id", "no-wrapped-key", "no-ciphertext"],
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
