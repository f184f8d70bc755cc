"""The frontend's API: start an application, upload documents, authorize carrier data, accept
the offer, sign, fetch the contract, withdraw. Each step is one workflow update; refusals come
back as 409 (wrong stage, closed) or 422 (invalid, or the step said no)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from fastapi import APIRouter, Response, UploadFile

from api.deps import ApplicantId, BlobsDep, EngineDep, GatewayDep, ServicesDep, SettingsDep
from api.errors import (
    InvalidRequest,
    NotFound,
    Unavailable,
    Unprocessable,
    UpstreamTimeout,
    error_docs,
)
from api.i18n import LanguageDep
from api.schemas import (
    ApplicantView,
    CarrierAuthorized,
    ContractSigned,
    DocumentUploaded,
    OfferAccepted,
    StartApplicationRequest,
    StartApplicationResponse,
    SubmitDocumentsRequest,
)
from api.security import applicant_token, application_id_for
from api.uploads import UploadKind, store_upload, uploaded_documents
from domain.enums import ApplicationStatus
from domain.models import (
    AcceptOfferInput,
    AcceptOfferResult,
    ApplicationView,
    CarrierAuthorizeResult,
    CarrierCodeInput,
    CarrierSmsResult,
    NewBankCardInput,
    NewBankCardResult,
    SignContractInput,
    SignContractResult,
    StartApplicationInput,
    SubmitDocumentsInput,
    WithdrawInput,
)
from domain.naming import UpdateName
from domain.products import PRODUCTS
from store import queries
from store.blobs import BlobNotFound

router = APIRouter(prefix="/v1/applications", tags=["applicant"])

_ERRORS = error_docs(
    401,
    404,
    409,
    422,
    503,
    504,
    _401="missing or wrong applicant token",
    _404="no such application",
)


async def _after(
    gateway: GatewayDep, application_id: str, before: ApplicationStatus
) -> ApplicationStatus:
    view = await gateway.status_after(application_id, before)
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
    body: StartApplicationRequest, response: Response, settings: SettingsDep, gateway: GatewayDep
) -> StartApplicationResponse:
    problems = body.problems()
    if problems:
        raise InvalidRequest(problems)
    application_id = application_id_for(settings.token_secret, body.phone, body.client_request_id)
    created = await gateway.start(
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
        view = await gateway.status(application_id, just_started=created)
        status, challenge = view.status, view.liveness_challenge
    except (Unavailable, UpstreamTimeout):
        # The workflow is started and durable; the app can read the challenge with GET later.
        status, challenge = ApplicationStatus.SUBMITTED, None
    return StartApplicationResponse(
        application_id=application_id,
        applicant_token=applicant_token(settings.token_secret, application_id),
        status=status,
        liveness_challenge=challenge,
    )


@router.get("/{application_id}", responses=_ERRORS)
async def get_application(
    application_id: ApplicantId, gateway: GatewayDep, engine: EngineDep, language: LanguageDep
) -> ApplicantView:
    try:
        return ApplicantView.of(await gateway.status(application_id), language)
    except (Unavailable, UpstreamTimeout):
        # No worker answered the query (a restart, a deploy): serve the last projected state
        # rather than an error, marked as not live so the frontend keeps polling.
        row = await queries.in_thread(engine, queries.get_application, application_id)
        if row is None:
            raise
        return ApplicantView.from_record(row, language)


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
    view = await services.gateway.update(
        application_id, UpdateName.SUBMIT_DOCUMENTS, message, ApplicationView
    )
    after = await services.gateway.status_after(application_id, view.status)
    return ApplicantView.of(after or view, language)


@router.post("/{application_id}/carrier/sms", responses=_ERRORS)
async def request_carrier_sms(application_id: ApplicantId, gateway: GatewayDep) -> CarrierSmsResult:
    return await gateway.update(
        application_id, UpdateName.REQUEST_CARRIER_SMS, None, CarrierSmsResult
    )


@router.post("/{application_id}/carrier/authorize", responses=_ERRORS)
async def authorize_carrier(
    application_id: ApplicantId, body: CarrierCodeInput, gateway: GatewayDep
) -> CarrierAuthorized:
    result = await gateway.update(
        application_id, UpdateName.AUTHORIZE_CARRIER, body, CarrierAuthorizeResult
    )
    if not result.accepted:
        raise Unprocessable("code_rejected", result.detail, attempts_left=result.attempts_left)
    status = await _after(gateway, application_id, ApplicationStatus.AWAITING_CARRIER_AUTH)
    return CarrierAuthorized(accepted=True, attempts_left=result.attempts_left, status=status)


@router.post("/{application_id}/offer/accept", responses=_ERRORS)
async def accept_offer(
    application_id: ApplicantId, body: AcceptOfferInput, gateway: GatewayDep
) -> OfferAccepted:
    result = await gateway.update(application_id, UpdateName.ACCEPT_OFFER, body, AcceptOfferResult)
    if not result.accepted:
        raise Unprocessable("offer_not_accepted", result.detail)
    status = await _after(gateway, application_id, ApplicationStatus.OFFERED)
    return OfferAccepted(accepted=True, schedule=result.schedule, status=status)


@router.post("/{application_id}/contract/sign", responses=_ERRORS)
async def sign_contract(
    application_id: ApplicantId, body: SignContractInput, gateway: GatewayDep
) -> ContractSigned:
    result = await gateway.update(
        application_id, UpdateName.SIGN_CONTRACT, body, SignContractResult
    )
    if not result.signed:
        raise Unprocessable("signature_rejected", result.detail, attempts_left=result.attempts_left)
    status = await _after(gateway, application_id, ApplicationStatus.AWAITING_SIGNATURE)
    return ContractSigned(signed=True, attempts_left=result.attempts_left, status=status)


@router.get(
    "/{application_id}/contract",
    response_class=Response,
    responses={**_ERRORS, 200: {"content": {"application/pdf": {}}}},
)
async def get_contract(
    application_id: ApplicantId, gateway: GatewayDep, blobs: BlobsDep
) -> Response:
    view = await gateway.status(application_id)
    if view.signed_contract_key is None:
        raise NotFound("the contract is not signed yet", status=view.status)
    try:
        pdf = await asyncio.to_thread(blobs.get, view.signed_contract_key)
    except BlobNotFound as exc:
        raise NotFound("the signed contract is not available") from exc
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="contract-{application_id}.pdf"'},
    )


@router.post("/{application_id}/withdraw", responses=_ERRORS)
async def withdraw(
    application_id: ApplicantId,
    gateway: GatewayDep,
    language: LanguageDep,
    body: WithdrawInput | None = None,
) -> ApplicantView:
    view = await gateway.update(
        application_id, UpdateName.WITHDRAW, body or WithdrawInput(), ApplicationView
    )
    after = await gateway.status_after(application_id, view.status)
    return ApplicantView.of(after or view, language)


@router.post("/{application_id}/bank-card", responses=_ERRORS)
async def provide_new_bank_card(
    application_id: ApplicantId, body: NewBankCardInput, gateway: GatewayDep
) -> NewBankCardResult:
    result = await gateway.update(
        application_id, UpdateName.PROVIDE_NEW_BANK_CARD, body, NewBankCardResult
    )
    if not result.accepted:
        raise Unprocessable("card_rejected", result.detail)
    return result
