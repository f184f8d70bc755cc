"""The Temporal client every process uses: pydantic payloads, encrypted by the codec."""

from __future__ import annotations

import dataclasses

from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.converter import DataConverter

from config.codec import EncryptionCodec
from config.settings import Settings


def data_converter(settings: Settings) -> DataConverter:
    codec = EncryptionCodec(
        settings.payload_encryption_key, settings.payload_key_id, settings.payload_previous_keys
    )
    return dataclasses.replace(pydantic_data_converter, payload_codec=codec)


async def connect(settings: Settings) -> Client:
    return await Client.connect(
        settings.temporal_address,
        namespace=settings.temporal_namespace,
        data_converter=data_converter(settings),
    )
