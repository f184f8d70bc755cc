"""The Temporal client every process uses: pydantic payloads, encrypted by the codec.

Workers pass `worker_runtime(settings)`: the SDK's own metrics (task latencies, schedule-to-start,
slots, polls, activity failures) served for Prometheus on `LOANFLOW_WORKER_METRICS_PORT`.
"""

from __future__ import annotations

import dataclasses

from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.converter import DataConverter
from temporalio.runtime import PrometheusConfig, Runtime, TelemetryConfig

from config.codec import EncryptionCodec
from config.settings import Settings


def data_converter(settings: Settings) -> DataConverter:
    codec = EncryptionCodec(settings.payload_encryption_key, settings.payload_key_id)
    return dataclasses.replace(pydantic_data_converter, payload_codec=codec)


def worker_runtime(settings: Settings, process: str) -> Runtime | None:
    """A runtime exporting the SDK metrics, tagged with the process kind; None when off."""
    if not settings.worker_metrics_port:
        return None
    bind = f"{settings.listen_host}:{settings.worker_metrics_port}"
    return Runtime(
        telemetry=TelemetryConfig(
            metrics=PrometheusConfig(bind_address=bind, durations_as_seconds=True),
            global_tags={"process": process},
        )
    )


async def connect(settings: Settings, runtime: Runtime | None = None) -> Client:
    return await Client.connect(
        settings.temporal_address,
        namespace=settings.temporal_namespace,
        data_converter=data_converter(settings),
        runtime=runtime,
    )
