"""Dependencies as Annotated aliases: the process-wide services built by the lifespan, and the
three kinds of caller (applicant of one application, ops, the Web UI's codec requests)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request, Security
from fastapi.security import HTTPAuthorizationCredentials
from sqlalchemy import Engine
from temporalio.client import Client

from api.application_workflows import ApplicationWorkflows
from api.security import applicant_bearer, ops_bearer, require_applicant, require_ops
from config.codec import EncryptionCodec
from config.settings import Settings
from store.blobs import BlobStore


@dataclass(frozen=True)
class Services:
    settings: Settings
    client: Client
    engine: Engine
    blobs: BlobStore
    workflows: ApplicationWorkflows
    codec: EncryptionCodec


def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(get_services)]


def _settings(services: ServicesDep) -> Settings:
    return services.settings


def _engine(services: ServicesDep) -> Engine:
    return services.engine


def _blobs(services: ServicesDep) -> BlobStore:
    return services.blobs


def _workflows(services: ServicesDep) -> ApplicationWorkflows:
    return services.workflows


def _codec(services: ServicesDep) -> EncryptionCodec:
    return services.codec


SettingsDep = Annotated[Settings, Depends(_settings)]
EngineDep = Annotated[Engine, Depends(_engine)]
BlobsDep = Annotated[BlobStore, Depends(_blobs)]
WorkflowsDep = Annotated[ApplicationWorkflows, Depends(_workflows)]
CodecDep = Annotated[EncryptionCodec, Depends(_codec)]

ApplicantCredentials = Annotated[HTTPAuthorizationCredentials | None, Security(applicant_bearer)]
OpsCredentials = Annotated[HTTPAuthorizationCredentials | None, Security(ops_bearer)]


def _applicant(
    application_id: str, settings: SettingsDep, credentials: ApplicantCredentials
) -> str:
    require_applicant(settings.token_secret, application_id, credentials)
    return application_id


def _ops(settings: SettingsDep, credentials: OpsCredentials) -> None:
    require_ops(settings.ops_token, credentials)


def _codec_caller(settings: SettingsDep, credentials: OpsCredentials) -> None:
    # The dev Web UI sends no token; in production decoded payloads hold personal data.
    if settings.environment == "production":
        require_ops(settings.ops_token, credentials)


ApplicantId = Annotated[str, Depends(_applicant)]
"""The `{application_id}` path parameter, once the bearer token proves it is the caller's."""

require_ops_caller = Depends(_ops)
require_codec_caller = Depends(_codec_caller)
