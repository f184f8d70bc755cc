"""The remote codec endpoint of the Temporal Web UI: payloads in history are encrypted, and the
UI sends them here to be shown decoded (and encodes the inputs it sends, e.g. signals)."""

from __future__ import annotations

import base64
import binascii

from cryptography.exceptions import InvalidTag
from fastapi import APIRouter
from temporalio.api.common.v1 import Payload

from api.deps import CodecDep, require_codec_caller
from api.errors import InvalidRequest, Unprocessable, error_docs
from api.schemas import CodecPayload, CodecPayloads

router = APIRouter(
    prefix="/codec",
    tags=["codec"],
    dependencies=[require_codec_caller],
    responses=error_docs(401, 422),
)


@router.post("/encode")
async def encode(codec: CodecDep, body: CodecPayloads | None = None) -> CodecPayloads:
    """An empty body or `{}` (what the `temporal` CLI sends for no payloads) encodes none."""
    return _to_json(await codec.encode(_from_json(body or CodecPayloads(payloads=[]))))


@router.post("/decode", responses=error_docs(422, _422="malformed or undecryptable payloads"))
async def decode(codec: CodecDep, body: CodecPayloads | None = None) -> CodecPayloads:
    try:
        return _to_json(await codec.decode(_from_json(body or CodecPayloads(payloads=[]))))
    except (InvalidTag, ValueError) as exc:
        raise Unprocessable("codec_error", "a payload could not be decrypted") from exc


def _from_json(body: CodecPayloads) -> list[Payload]:
    try:
        return [
            Payload(
                metadata={k: base64.b64decode(v, validate=True) for k, v in p.metadata.items()},
                data=base64.b64decode(p.data, validate=True),
            )
            for p in body.payloads
        ]
    except (binascii.Error, ValueError) as exc:
        raise InvalidRequest("payload metadata and data must be base64") from exc


def _to_json(payloads: list[Payload]) -> CodecPayloads:
    return CodecPayloads(
        payloads=[
            CodecPayload(
                metadata={k: base64.b64encode(v).decode() for k, v in p.metadata.items()},
                data=base64.b64encode(p.data).decode(),
            )
            for p in payloads
        ]
    )
