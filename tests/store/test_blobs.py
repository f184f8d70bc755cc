"""The blob store behind one interface: a local folder and an S3-compatible bucket (an embedded
moto S3 server on a free port) keep the same promises."""

from __future__ import annotations

import hashlib
import io
import os
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from config.settings import Settings
from devtools.stack import Ports
from store.blobs import (
    CHUNK,
    BlobExists,
    BlobNotFound,
    BlobStore,
    BlobStoreUnavailable,
    LocalBlobStore,
    S3BlobStore,
    open_backend,
)
from tests.store.conftest import CREDENTIALS, new_bucket


@pytest.fixture(params=["local", "s3"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> BlobStore:
    if request.param == "local":
        return LocalBlobStore(tmp_path / "blobs")
    endpoint = request.getfixturevalue("s3_endpoint")
    return S3BlobStore(new_bucket(endpoint), "blobs", endpoint_url=endpoint, **CREDENTIALS)


def test_put_reads_back_under_the_content_digest(store: BlobStore) -> None:
    data = b"\x89PNG selfie bytes" * 100
    key, digest = store.put("documents/app-1/selfie", data)
    assert digest == hashlib.sha256(data).hexdigest()
    assert key == f"documents/app-1/selfie/{digest}"
    assert store.get(key) == data
    assert store.exists(key)


def test_a_second_write_to_a_key_is_refused_and_the_first_content_stays(store: BlobStore) -> None:
    store.write("contracts/app-2/signed", b"first")
    with pytest.raises(BlobExists):
        store.write("contracts/app-2/signed", b"second")
    assert store.get("contracts/app-2/signed") == b"first"


def test_a_retried_put_of_the_same_bytes_returns_the_same_key(store: BlobStore) -> None:
    first = store.put("documents/app-3/id_front", b"card")
    assert store.put("documents/app-3/id_front", b"card") == first
    assert store.get(first[0]) == b"card"


def test_concurrent_writers_of_one_key_one_wins(store: BlobStore) -> None:
    def attempt(n: int) -> bool:
        try:
            store.write("race/key", f"writer {n}".encode())
        except BlobExists:
            return False
        return True

    with ThreadPoolExecutor(4) as pool:
        wins = list(pool.map(attempt, range(4)))
    assert wins.count(True) == 1
    assert store.get("race/key") == f"writer {wins.index(True)}".encode()


@pytest.mark.parametrize("key", ["documents/app-4/missing", "../outside", "a//b", "/abs"])
def test_a_missing_or_malformed_key_is_blob_not_found(store: BlobStore, key: str) -> None:
    with pytest.raises(BlobNotFound):
        store.get(key)
    assert not store.exists(key)


def test_ping_passes_on_a_reachable_store(store: BlobStore) -> None:
    store.ping()


def test_s3_readiness_fails_for_a_missing_bucket_or_a_dead_endpoint(s3_endpoint: str) -> None:
    with pytest.raises(BlobStoreUnavailable):
        S3BlobStore("no-such-bucket", endpoint_url=s3_endpoint, **CREDENTIALS).ping()
    dead = f"http://127.0.0.1:{Ports.free().api}"
    store = S3BlobStore("b", endpoint_url=dead, timeout_seconds=1, **CREDENTIALS)
    with pytest.raises(BlobStoreUnavailable):
        store.get("documents/x")


def test_s3_objects_sit_under_the_prefix_with_server_side_encryption(s3_endpoint: str) -> None:
    bucket = new_bucket(s3_endpoint)
    store = S3BlobStore(
        bucket, "/tenant-a/", endpoint_url=s3_endpoint, server_side_encryption="AES256",
        **CREDENTIALS,
    )  # fmt: skip
    key, _ = store.put("documents/app-5/selfie", b"face")
    head = store.client.head_object(Bucket=bucket, Key=f"tenant-a/{key}")
    assert head["ServerSideEncryption"] == "AES256"


def test_the_factory_picks_the_backend_from_the_settings(tmp_path: Path, s3_endpoint: str) -> None:
    local = open_backend(Settings(data_dir=tmp_path))
    assert isinstance(local, LocalBlobStore) and local.root == tmp_path / "blobs"
    folder = open_backend(Settings(blob_url=(tmp_path / "elsewhere").as_uri()))
    assert isinstance(folder, LocalBlobStore) and folder.root == tmp_path / "elsewhere"

    bucket = new_bucket(s3_endpoint)
    s3 = open_backend(
        Settings(
            blob_url=f"s3://{bucket}/loanflow",
            s3_endpoint_url=s3_endpoint,
            s3_region="us-east-1",
            s3_access_key_id="testing",
            s3_secret_access_key="testing",
        )
    )
    assert isinstance(s3, S3BlobStore) and (s3.bucket, s3.prefix) == (bucket, "loanflow")
    key, _ = s3.put("documents/app-6/id_back", b"back")
    assert s3.get(key) == b"back"


def test_an_unknown_blob_url_scheme_is_refused_by_the_settings() -> None:
    with pytest.raises(ValueError):
        Settings(blob_url="ftp://host/blobs")


def test_the_ensure_job_creates_the_bucket_once(
    s3_endpoint: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from config.settings import get_settings
    from store import blobs

    bucket = f"loanflow-{uuid.uuid4().hex[:10]}"
    for key, value in {
        "LOANFLOW_BLOB_URL": f"s3://{bucket}/blobs",
        "LOANFLOW_S3_ENDPOINT_URL": s3_endpoint,
        "LOANFLOW_S3_REGION": "us-east-1",
        "LOANFLOW_S3_ACCESS_KEY_ID": "testing",
        "LOANFLOW_S3_SECRET_ACCESS_KEY": "testing",
    }.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setattr("sys.argv", ["python -m store.blobs", "check"])
    get_settings.cache_clear()
    try:
        with pytest.raises(BlobStoreUnavailable):
            blobs.main()  # `check` does not create anything
        for _ in range(2):  # a rerun of the job finds the bucket and passes
            monkeypatch.setattr("sys.argv", ["python -m store.blobs", "ensure"])
            blobs.main()
    finally:
        get_settings.cache_clear()
    assert "blob store ready: S3BlobStore" in capsys.readouterr().out
    store = S3BlobStore(bucket, "blobs", endpoint_url=s3_endpoint, **CREDENTIALS)
    key, _ = store.put("documents/app-7/selfie", b"face")
    assert store.get(key) == b"face"


def test_a_streamed_put_matches_put_and_reads_back_in_chunks(store: BlobStore) -> None:
    data = os.urandom(2 * CHUNK + 5)
    key, digest = store.put_stream("documents/app-8/liveness_video", io.BytesIO(data))
    assert (key, digest) == store.put("documents/app-8/liveness_video", data)
    chunks = list(store.open_stream(key))
    assert [len(c) for c in chunks] == [CHUNK, CHUNK, 5] and b"".join(chunks) == data
    with pytest.raises(BlobExists):
        store.write_stream(key, [b"other"])
    with pytest.raises(BlobNotFound):
        store.open_stream("documents/app-8/missing")
