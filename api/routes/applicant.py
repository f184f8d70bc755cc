"""The frontend's API: start an application, upload documents, authorize carrier data, accept
the offer, sign, fetch the contract, withdraw. Each step is one workflow update; refusals come
back as 409 (wrong stage, closed) or 422 (invalid, or the step said no)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response, UploadFile
from fastapi.responses import StreamingResponse
from fastapi.security import HTTPAuthorizationCredentials

from api import limits
from api.deps import (
    ApplicantId,
    BlobsDep,
    EngineDep,
    LimiterDep,
    ServicesDep,
    SettingsDep,
    WorkflowsDep,
)
from api.errors import (
    InvalidRequest,
    NotFound,
    Unauthorized,
    Unavailable,
    Unprocessable,
    UpstreamTimeout,
    error_docs,
)
from api.i18n import LanguageDep
from api.identity import Scope
from api.live import live_or_recorded, moved_or_recorded
from api.schemas import (
    ApplicantTokensOut,
    ApplicantView,
    CarrierAuthorized,
    ContractSigned,
    DocumentUploaded,
    NewBankCardAccepted,
    OfferAccepted,
    StartApplicationRequest,
    StartApplicationResponse,
    SubmitDocumentsRequest,
    TokenRefreshRequest,
)
from api.security import application_id_for, issue_applicant_tokens, require_applicant
from api.uploads import UploadKind, store_upload, uploaded_documents
from domain.application import StartApplicationInput, WithdrawInput
from domain.carrier import CarrierAuthorizeResult, CarrierCodeInput, CarrierSmsResult
from domain.contract import SignContractInput, SignContractResult
from domain.enums import ApplicationStatus
from domain.identity import SubmitDocumentsInput
from domain.lines import LineStatus
from domain.naming import UpdateName
from domain.offer import AcceptOfferInput, AcceptOfferResult
from domain.payout import NewBankCardInput, NewBankCardResult
from domain.products import PRODUCTS
from domain.status import ApplicationView
from store import identity, queries
from store import lines as line_store
from store.blobs import BlobNotFound, BlobStore

router = APIRouter(prefix="/v1/applications", tags=["applicant"])

# A held GET stays under the idle timeouts of the usual proxies and mobile networks.
MAX_WAIT_SECONDS = 25.0

_ERRORS = error_docs(
    401,
    404,
    409,
    422,
    429,
    503,
    504,
    _401="missing or wrong applicant token",
    _404="no such application",
    _429="too many attempts, or locked after wrong codes: see Retry-After",
)


async def _after(
    workflows: WorkflowsDep, application_id: str, before: ApplicationStatus
) -> ApplicationStatus:
    view = await workflows.status_after(application_id, before)
    return view.status if view else before


@router.post(
    "",
    status_code=201,
    responses={
        200: {"description": "the same request again: the existing application"},
        **error_docs(422, 503, 504),
    },
)
async def start_application(
    body: StartApplicationRequest,
    request: Request,
    response: Response,
    settings: SettingsDep,
    workflows: WorkflowsDep,
    limiter: LimiterDep,
) -> StartApplicationResponse:
    problems = body.problems()
    if problems:
        raise InvalidRequest(problems)
    await limiter.take(limits.START_PER_IP, client_ip(request))
    await limiter.take(limits.START_PER_PHONE, body.phone)
    await limiter.take(limits.START_PER_DEVICE, body.device.fingerprint)
    application_id = application_id_for(settings.token_secret, body.phone, body.client_request_id)
    created = await workflows.start(
        StartApplicationInput(
            application_id=application_id,
            client_request_id=body.client_request_id,
            product=PRODUCTS[body.product_code],
            phone=body.phone,
            requested_amount=body.requested_amount,
            requested_term=body.term_months,
            device=body.device,
            consents=body.consents,
            submitted_at=datetime.now(UTC),
        )
    )
    if not created:
        response.status_code = 200
    try:
        view = await workflows.status(application_id, just_started=created)
        status, challenge = view.status, view.liveness_challenge
    except (Unavailable, UpstreamTimeout):
        # The workflow is started and durable; the app can read the challenge with GET later.
        status, challenge = ApplicationStatus.SUBMITTED, None
    tokens = issue_applicant_tokens(settings, application_id)
    return StartApplicationResponse(
        application_id=application_id,
        applicant_token=tokens.access.token,
        expires_at=tokens.access.expires_at,
        refresh_token=tokens.refresh.token,
        status=status,
        liveness_challenge=challenge,
    )


@router.post(
    "/{application_id}/token",
    responses={401: {"description": "the refresh token is expired, revoked or not this one's"}},
)
async def refresh_token(
    application_id: str, body: TokenRefreshRequest, services: ServicesDep
) -> ApplicantTokensOut:
    """A new access token and refresh token for the app; the refresh token used is spent (a
    replay is refused). Once the application has ended the new access token only reads, and
    after the read period nothing is issued, unless it opened a credit line that is still
    live."""
    settings = services.settings
    claims = require_applicant(
        settings.token_keys,
        application_id,
        HTTPAuthorizationCredentials(scheme="Bearer", credentials=body.refresh_token),
        Scope.REFRESH,
    )
    engine = services.engine
    if await queries.in_thread(engine, identity.is_revoked, claims.jti):
        raise Unauthorized("the refresh token was already used")
    await queries.in_thread(engine, identity.revoke_token, claims.jti, claims.expires_at)
    row = await queries.in_thread(engine, queries.get_application, application_id)
    ended = row is not None and ApplicationStatus(row.status).is_terminal
    line = await queries.in_thread(engine, line_store.get_line, application_id)
    if line is not None and line.status in (LineStatus.ACTIVE, LineStatus.FROZEN):
        # The approval lives on as a credit line (same id): its borrower keeps drawing and
        # repaying with the application's tokens; the application itself only reads.
        ended = False
    elif ended and row is not None:
        until = queries.utc(row.updated_at) + timedelta(days=settings.applicant_read_days_after_end)
        if datetime.now(UTC) > until:
            raise Unauthorized("access to this application has ended")
    tokens = issue_applicant_tokens(settings, application_id, read_only=ended)
    return ApplicantTokensOut(
        applicant_token=tokens.access.token,
        expires_at=tokens.access.expires_at,
        refresh_token=tokens.refresh.token,
    )


@router.get("/{application_id}", responses=_ERRORS)
async def get_application(
    application_id: ApplicantId,
    workflows: WorkflowsDep,
    engine: EngineDep,
    language: LanguageDep,
    since: Annotated[
        ApplicationStatus | None,
        Query(description="with `wait`: answer once the status is no longer this one"),
    ] = None,
    wait: Annotated[
        float,
        Query(
            ge=0,
            le=MAX_WAIT_SECONDS,
            description="seconds to hold the request while the status is still `since` "
            "(long polling); the view as it is then",
        ),
    ] = 0,
) -> ApplicantView:
    # No worker answering (a restart, a deploy, Temporal down): the last projected state, marked
    # as not live so the frontend keeps polling, rather than an error or a hung request; a held
    # GET still waits for the stored row to move, and ends when its time is up.
    if since is not None and wait > 0:
        view = await moved_or_recorded(workflows, engine, application_id, since, wait)
    else:
        view = await live_or_recorded(workflows, engine, application_id)
    if isinstance(view, ApplicationView):
        return ApplicantView.of(view, language)
    return ApplicantView.from_record(view, language)


@router.put(
    "/{application_id}/documents/{kind}",
    status_code=202,
    responses={
        **_ERRORS,
        **error_docs(413, 415, _415="not a JPEG/PNG image or an MP4/MOV/WebM video"),
    },
)
async def upload_document(
    application_id: ApplicantId, kind: UploadKind, file: UploadFile, services: ServicesDep
) -> DocumentUploaded:
    ref = await store_upload(services, application_id, kind, file)
    return DocumentUploaded(kind=ref.kind.value, sha256=ref.sha256, size=ref.size)


@router.post("/{application_id}/documents/submit", status_code=202, responses=_ERRORS)
async def submit_documents(
    application_id: ApplicantId,
    body: SubmitDocumentsRequest,
    services: ServicesDep,
    language: LanguageDep,
) -> ApplicantView:
    documents = await uploaded_documents(services, application_id)
    message = SubmitDocumentsInput(
        documents=documents, full_name=body.full_name.strip(), id_number=body.id_number.upper()
    )
    view = await services.workflows.update(
        application_id, UpdateName.SUBMIT_DOCUMENTS, message, ApplicationView
    )
    after = await services.workflows.status_after(application_id, view.status)
    return ApplicantView.of(after or view, language)


@router.post("/{application_id}/carrier/sms", responses=_ERRORS)
async def request_carrier_sms(
    application_id: ApplicantId, request: Request, workflows: WorkflowsDep, limiter: LimiterDep
) -> CarrierSmsResult:
    await limiter.take(limits.SMS_COOL_DOWN, application_id)
    await limiter.take(limits.SMS_PER_APPLICATION, application_id)
    await limiter.take(limits.SMS_PER_IP, client_ip(request))
    return await workflows.update(
        application_id, UpdateName.REQUEST_CARRIER_SMS, None, CarrierSmsResult
    )


@router.post("/{application_id}/carrier/authorize", responses=_ERRORS)
async def authorize_carrier(
    application_id: ApplicantId,
    body: CarrierCodeInput,
    workflows: WorkflowsDep,
    limiter: LimiterDep,
) -> CarrierAuthorized:
    await limiter.code_attempt(application_id)
    result = await workflows.update(
        application_id, UpdateName.AUTHORIZE_CARRIER, body, CarrierAuthorizeResult
    )
    if not result.accepted:
        await limiter.wrong_code(application_id)
        raise Unprocessable("code_rejected", result.detail, attempts_left=result.attempts_left)
    status = await _after(workflows, application_id, ApplicationStatus.AWAITING_CARRIER_AUTH)
    return CarrierAuthorized(accepted=True, attempts_left=result.attempts_left, status=status)


@router.post("/{application_id}/offer/accept", responses=_ERRORS)
async def accept_offer(
    application_id: ApplicantId, body: AcceptOfferInput, workflows: WorkflowsDep
) -> OfferAccepted:
    result = await workflows.update(
        application_id, UpdateName.ACCEPT_OFFER, body, AcceptOfferResult
    )
    if not result.accepted:
        raise Unprocessable("offer_not_accepted", result.detail)
    status = await _after(workflows, application_id, ApplicationStatus.OFFERED)
    return OfferAccepted(accepted=True, schedule=result.schedule, status=status)


@router.post("/{application_id}/contract/sign", responses=_ERRORS)
async def sign_contract(
    application_id: ApplicantId,
    body: SignContractInput,
    workflows: WorkflowsDep,
    limiter: LimiterDep,
) -> ContractSigned:
    await limiter.code_attempt(application_id)
    result = await workflows.update(
        application_id, UpdateName.SIGN_CONTRACT, body, SignContractResult
    )
    if not result.signed:
        await limiter.wrong_code(application_id)
        raise Unprocessable("signature_rejected", result.detail, attempts_left=result.attempts_left)
    status = await _after(workflows, application_id, ApplicationStatus.AWAITING_SIGNATURE)
    return ContractSigned(signed=True, attempts_left=result.attempts_left, status=status)


@router.get(
    "/{application_id}/contract",
    response_class=Response,
    responses={**_ERRORS, 200: {"content": {"application/pdf": {}}}},
)
async def get_contract(
    application_id: ApplicantId, workflows: WorkflowsDep, blobs: BlobsDep
) -> Response:
    view = await workflows.status(application_id)
    if view.signed_contract_key is None:
        raise NotFound("the contract is not signed yet", status=view.status)
    try:
        pdf = await asyncio.to_thread(_opened, blobs, view.signed_contract_key)
    except BlobNotFound as exc:
        raise NotFound("the signed contract is not available") from exc
    return StreamingResponse(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="contract-{application_id}.pdf"'},
    )


@router.post("/{application_id}/withdraw", responses=_ERRORS)
async def withdraw(
    application_id: ApplicantId,
    workflows: WorkflowsDep,
    language: LanguageDep,
    body: WithdrawInput | None = None,
) -> ApplicantView:
    view = await workflows.update(
        application_id, UpdateName.WITHDRAW, body or WithdrawInput(), ApplicationView
    )
    after = await workflows.status_after(application_id, view.status)
    return ApplicantView.of(after or view, language)


@router.post("/{application_id}/bank-card", responses=_ERRORS)
async def provide_new_bank_card(
    application_id: ApplicantId, body: NewBankCardInput, workflows: WorkflowsDep
) -> NewBankCardAccepted:
    result = await workflows.update(
        application_id, UpdateName.PROVIDE_NEW_BANK_CARD, body, NewBankCardResult
    )
    if not result.accepted:
        raise Unprocessable("card_rejected", result.detail)
    status = await _after(workflows, application_id, ApplicationStatus.DISBURSING)
    return NewBankCardAccepted(accepted=True, status=status)


def _opened(blobs: BlobStore, key: str) -> Iterator[bytes]:
    """The object's verified chunks, the first one already read: a missing, undecryptable or
    damaged object (a contract is one chunk) is an error answer, not a cut-off 200."""
    stream = blobs.open_stream(key)
    try:
        first = next(stream, b"")
    except BaseException:
        _close(stream)
        raise
    return _then(first, stream)


def _then(first: bytes, stream: Iterator[bytes]) -> Iterator[bytes]:
    try:
        yield first
        yield from stream
    finally:
        _close(stream)


def _close(stream: Iterator[bytes]) -> None:
    close = getattr(stream, "close", None)
    if close is not None:
        close()


def client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"
