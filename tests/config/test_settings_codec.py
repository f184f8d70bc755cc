"""Settings refuse unsafe production values; the codec keeps PII out of Temporal payloads."""

from __future__ import annotations

import base64

import pytest
from pydantic import ValidationError
from temporalio.contrib.pydantic import pydantic_data_converter

from config.codec import EncryptionCodec
from config.settings import DEV_ENCRYPTION_KEY, Settings
from domain.carrier import CarrierSmsInput

STRONG = base64.b64encode(bytes(range(32))).decode()


def test_production_refuses_development_secrets() -> None:
    with pytest.raises(ValidationError) as refused:
        Settings(environment="production")
    assert "payload_encryption_key" in str(refused.value)
    Settings(
        environment="production",
        payload_encryption_key=STRONG,
        token_secret="t" * 32,
        payment_callback_secret="p" * 32,
        bureau_callback_secret="b" * 32,
        device_risk_callback_secret="d" * 32,
        blob_encryption_keys={"prod-1": STRONG},
        blob_key_id="prod-1",
    )


def test_encryption_key_must_be_32_bytes() -> None:
    with pytest.raises(ValidationError):
        Settings(payload_encryption_key=base64.b64encode(b"short").decode())


async def test_codec_encrypts_and_round_trips() -> None:
    codec = EncryptionCodec(DEV_ENCRYPTION_KEY, "dev-1")
    payloads = pydantic_data_converter.payload_converter.to_payloads(
        [CarrierSmsInput(application_id="app_1", phone="13800138000")]
    )
    encoded = await codec.encode(payloads)
    assert b"13800138000" not in encoded[0].SerializeToString()
    assert encoded[0].metadata["encoding"] == b"binary/encrypted"
    decoded = await codec.decode(encoded)
    assert decoded == payloads


async def test_codec_refuses_a_payload_from_another_key() -> None:
    ours = EncryptionCodec(DEV_ENCRYPTION_KEY, "dev-1")
    theirs = EncryptionCodec(STRONG, "prod-7")
    payloads = pydantic_data_converter.payload_converter.to_payloads(["x"])
    with pytest.raises(ValueError, match="unknown encryption key"):
        await ours.decode(await theirs.encode(payloads))


async def test_codec_key_rotation_new_key_encrypts_old_keys_still_decrypt() -> None:
    payloads = pydantic_data_converter.payload_converter.to_payloads(["13800138000"])
    before = EncryptionCodec(DEV_ENCRYPTION_KEY, "dev-1")
    old = await before.encode(payloads)
    rotated = EncryptionCodec(STRONG, "prod-2", {"dev-1": DEV_ENCRYPTION_KEY})
    new = await rotated.encode(payloads)
    assert new[0].metadata["encryption-key-id"] == b"prod-2"
    assert await rotated.decode(old) == await rotated.decode(new) == payloads
    with pytest.raises(ValueError, match="unknown encryption key"):
        await before.decode(new)
    retired = EncryptionCodec(STRONG, "prod-2")
    with pytest.raises(ValueError, match="unknown encryption key"):
        await retired.decode(old)
