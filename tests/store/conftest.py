"""An embedded moto S3 server on a free port, shared by the blob store's tests."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from devtools.stack import Ports
from store.blobs import S3BlobStore

CREDENTIALS = {"access_key_id": "testing", "secret_access_key": "testing", "region": "us-east-1"}


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    from moto.server import ThreadedMotoServer

    port = Ports.free().api
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


def new_bucket(endpoint: str) -> str:
    bucket = f"loanflow-{uuid.uuid4().hex[:10]}"
    S3BlobStore(bucket, endpoint_url=endpoint, **CREDENTIALS).client.create_bucket(Bucket=bucket)
    return bucket
