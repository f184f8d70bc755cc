"""The remote codec endpoint of the Temporal Web UI: payloads in history are encrypted, and the
UI sends them here to be shown decoded (and encodes the inputs it sends, e.g. signals)."""

from __future__ import annotations

import base64
import binascii

from cryptography.exceptions import InvalidTag
from fastapi import APIRouter
from temporalio.api.common.v1 import Payload

from api.deps import CodecDep, require_codec_caller
from api.errors import InvalidRequest, Unprocessable
from api.schemas import CodecPayload, CodecPayloads

router = APIRouter(prefix="/codec", tags=["codec"], dependencies=[require_codec_caller])


@router.post("/encode")
async def encode(body: CodecPayloads, codec: CodecDep) -> CodecPayloads:
    return _to_json(await codec.encode(_from_json(body)))


@router.post("/decode", responses={422: {"description": "malformed or undecryptable payloads"}})
async def decode(body: CodecPayloads, codec: CodecDep) -> CodecPayloads:
    try:
        return _to_json(await codec.decode(_from_json(body)))
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
