"""The Temporal client every process uses: pydantic payloads, encrypted by the codec, connected
from Temporal's environment configuration with loanflow's settings on top.

`client_connect_config` starts from `temporalio.envconfig` (a TOML profile and the standard
`TEMPORAL_*` variables, as the `temporal` CLI reads them), then applies every
`LOANFLOW_TEMPORAL_*` setting that is set: address, namespace, API key, TLS with optional client
certificate (mTLS) and server CA. So the same image reaches a local dev server, a secured
self-hosted cluster or Temporal Cloud by configuration alone.

Workers pass `worker_runtime(settings)`: the SDK's own metrics (task latencies, schedule-to-start,
slots, polls, activity failures) served for Prometheus on `LOANFLOW_WORKER_METRICS_PORT`; and
`deployment_config(settings)`: worker deployment versioning when a deployment name and build id
are configured.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping

from temporalio.client import Client
from temporalio.common import VersioningBehavior, WorkerDeploymentVersion
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.converter import DataConverter
from temporalio.envconfig import ClientConfigProfile, ClientConnectConfig
from temporalio.runtime import PrometheusConfig, Runtime, TelemetryConfig
from temporalio.service import TLSConfig
from temporalio.worker import WorkerDeploymentConfig

from config.codec import EncryptionCodec
from config.settings import Settings

_BEHAVIOR = {"pinned": VersioningBehavior.PINNED, "auto_upgrade": VersioningBehavior.AUTO_UPGRADE}


def data_converter(settings: Settings) -> DataConverter:
    codec = EncryptionCodec(
        settings.payload_encryption_key, settings.payload_key_id, settings.payload_previous_keys
    )
    return dataclasses.replace(pydantic_data_converter, payload_codec=codec)


def client_connect_config(
    settings: Settings, env: Mapping[str, str] | None = None
) -> ClientConnectConfig:
    """Arguments for `Client.connect`: Temporal's environment configuration, then the settings
    that were given explicitly (defaults never override what the environment configures)."""
    env = dict(os.environ if env is None else env)
    profile = ClientConfigProfile.load(env.get("TEMPORAL_PROFILE") or None, override_env_vars=env)
    config = profile.to_client_connect_config()
    given = settings.model_fields_set
    if "temporal_address" in given or "target_host" not in config:
        config["target_host"] = settings.temporal_address
    if "temporal_namespace" in given or "namespace" not in config:
        config["namespace"] = settings.temporal_namespace
    if settings.temporal_api_key:
        config["api_key"] = settings.temporal_api_key
    tls = _tls(settings)
    if tls is not None:
        config["tls"] = tls
    elif settings.temporal_api_key and "tls" not in config:
        config["tls"] = True  # API keys are only sent over TLS
    return config


def _tls(settings: Settings) -> TLSConfig | bool | None:
    files = (settings.temporal_tls_cert, settings.temporal_tls_key, settings.temporal_tls_ca)
    if settings.temporal_tls is False:
        return False
    if not any(files) and not settings.temporal_tls_server_name:
        return True if settings.temporal_tls else None
    cert, key, ca = (path.read_bytes() if path else None for path in files)
    return TLSConfig(
        client_cert=cert,
        client_private_key=key,
        server_root_ca_cert=ca,
        domain=settings.temporal_tls_server_name or None,
    )


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


def deployment_config(settings: Settings) -> WorkerDeploymentConfig | None:
    """Worker deployment versioning: this worker serves `deployment_name` at `build_id`.

    `auto_upgrade` (default): open workflows move to the new build at their next task, so a
    change to workflow code must keep old histories replaying (`workflow.patched`, checked by
    the replay test). `pinned`: each workflow stays on the build it started on; the old
    build's workers must run until its workflows drain (offers stay open up to 7 days)."""
    if not settings.worker_deployment_name:
        return None
    return WorkerDeploymentConfig(
        version=WorkerDeploymentVersion(
            deployment_name=settings.worker_deployment_name, build_id=settings.worker_build_id
        ),
        use_worker_versioning=True,
        default_versioning_behavior=_BEHAVIOR[settings.worker_versioning_behavior],
    )


async def connect(settings: Settings, runtime: Runtime | None = None) -> Client:
    return await Client.connect(
        **client_connect_config(settings),
        data_converter=data_converter(settings),
        runtime=runtime,
    )
