"""Dependencies as Annotated aliases: the process-wide services built by the lifespan, and the
kinds of caller: the applicant of one application, ops people by role (admin includes senior,
senior includes reviewer; an engineer inspects), and the Web UI's codec requests."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import Depends, Request, Security
from fastapi.security import HTTPAuthorizationCredentials
from sqlalchemy import Engine
from temporalio.client import Client

from api.application_workflows import ApplicationWorkflows
from api.errors import UNAVAILABLE_ERRORS, Forbidden, Unauthorized
from api.identity import Scope, verify_ops_token
from api.limits import Limiter
from api.security import applicant_bearer, ops_bearer, ops_cookie, require_applicant
from config.codec import EncryptionCodec
from config.settings import Settings
from domain.enums import ApplicationStatus, OpsRole
from store import identity, queries
from store.blobs import BlobStore
from vendors.gateway import PaymentGatewayClient

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Services:
    settings: Settings
    client: Client
    engine: Engine
    blobs: BlobStore
    workflows: ApplicationWorkflows
    codec: EncryptionCodec
    limiter: Limiter
    payments: PaymentGatewayClient
    """The gateway's order API: a late RETURNED is checked against it before it counts."""


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


def _limiter(services: ServicesDep) -> Limiter:
    return services.limiter


LimiterDep = Annotated[Limiter, Depends(_limiter)]

ApplicantCredentials = Annotated[HTTPAuthorizationCredentials | None, Security(applicant_bearer)]
OpsCredentials = Annotated[HTTPAuthorizationCredentials | None, Security(ops_bearer)]
OpsCookie = Annotated[str | None, Security(ops_cookie)]


async def _applicant(
    application_id: str, request: Request, services: ServicesDep, credentials: ApplicantCredentials
) -> str:
    settings = services.settings
    write = request.method not in ("GET", "HEAD")
    require_applicant(
        settings.token_keys, application_id, credentials, Scope.WRITE if write else Scope.READ
    )
    try:
        row = await queries.in_thread(services.engine, queries.get_application, application_id)
    except UNAVAILABLE_ERRORS:
        if write:
            raise
        # The store is down: a read goes on with the signed token alone (it expires within
        # minutes), so the applicant still sees the live status; whether the application has
        # ended, and its read window, are checked again once the store is back.
        logger.warning("store unavailable: applicant read allowed on its token alone")
        return application_id
    if row is not None and ApplicationStatus(row.status).is_terminal:
        # The application has ended: its tokens only read, and only for a while.
        if write:
            raise Unauthorized("the application has ended; its token only reads")
        until = queries.utc(row.updated_at) + timedelta(days=settings.applicant_read_days_after_end)
        if datetime.now(UTC) > until:
            raise Unauthorized("access to this application has ended")
    return application_id


ApplicantId = Annotated[str, Depends(_applicant)]
"""The `{application_id}` path parameter, once the bearer token proves it is the caller's."""


@dataclass(frozen=True)
class OpsPrincipal:
    """A signed-in ops person; `jti` and `expires_at` identify the session for sign-out."""

    username: str
    role: OpsRole
    jti: str
    expires_at: datetime


async def ops_principal(
    services: ServicesDep, bearer: OpsCredentials, cookie: OpsCookie
) -> OpsPrincipal:
    token = bearer.credentials if bearer is not None else cookie
    if not token:
        raise Unauthorized("sign in: POST /v1/ops/sessions")
    claims = verify_ops_token(services.settings.token_keys, token)
    role = await queries.in_thread(
        services.engine, identity.active_role, claims.subject, claims.jti
    )
    if role is None:
        raise Unauthorized("the session has ended or the user is disabled")
    return OpsPrincipal(claims.subject, role, claims.jti, claims.expires_at)


SignedIn = Annotated[OpsPrincipal, Depends(ops_principal)]


def _role(*allowed: OpsRole) -> Callable[[OpsPrincipal], OpsPrincipal]:
    def check(principal: SignedIn) -> OpsPrincipal:
        if not any(principal.role.grants(role) for role in allowed):
            raise Forbidden(f"needs the role {' or '.join(allowed)}")
        return principal

    return check


ReviewerPrincipal = Annotated[OpsPrincipal, Depends(_role(OpsRole.REVIEWER))]
"""A reviewer, senior or admin: records review outcomes."""
SeniorPrincipal = Annotated[OpsPrincipal, Depends(_role(OpsRole.SENIOR))]
"""A senior or admin: escalated reviews."""
AdminPrincipal = Annotated[OpsPrincipal, Depends(_role(OpsRole.ADMIN))]
"""An admin: the blacklist and overrides."""
EngineerPrincipal = Annotated[OpsPrincipal, Depends(_role(OpsRole.ENGINEER))]
"""An engineer or admin: decoded payloads."""
InspectorPrincipal = Annotated[OpsPrincipal, Depends(_role(OpsRole.REVIEWER, OpsRole.ENGINEER))]
"""Anyone signed in to ops: read-only queue and evidence."""


async def _codec_caller(
    services: ServicesDep, bearer: OpsCredentials, cookie: OpsCookie
) -> OpsPrincipal | None:
    if not services.settings.codec_requires_sign_in:
        return None
    principal = await ops_principal(services, bearer, cookie)
    return _role(OpsRole.ENGINEER)(principal)


require_codec_caller = Depends(_codec_caller)
