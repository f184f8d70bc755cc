"""The frontend contract's examples: one instance of every request and response model of the
API, for `/openapi.json` (and the client generated from it). Each is built from its model, so
an example cannot disagree with its schema; `examples_for` matches them to the spec's schema
names."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from pydantic import BaseModel

from api.routes.lines import LineEventOut, LineEvidence, LineSchedule
from api.routes.lines import QuoteRequest as LineQuoteRequest
from api.schemas import (
    ApplicantTokensOut,
    ApplicationRecord,
    ApplicationSummary,
    AuditOut,
    BlacklistRemoval,
    BlacklistRemoved,
    BlacklistRequest,
    BlacklistResponse,
    CallbackAck,
    CarrierAuthorized,
    CodecPayload,
    CodecPayloads,
    ContractSigned,
    DecisionRecordOut,
    DocumentRecord,
    DocumentUploaded,
    EvidenceResponse,
    NewBankCardAccepted,
    OfferAccepted,
    OpsSessionOut,
    OpsSignIn,
    OpsWithdrawRequest,
    QuoteRequest,
    ReviewItem,
    ReviewRequest,
    SubmitDocumentsRequest,
    TokenRefreshRequest,
)
from domain.application import WithdrawInput
from domain.carrier import CarrierCodeInput, CarrierSmsResult
from domain.contract import SignContractInput, SignContractResult
from domain.decision import ReviewResult
from domain.enums import (
    ApplicationStatus,
    BlacklistKind,
    NextAction,
    OpsRole,
    ReviewOutcome,
)
from domain.line_messages import (
    DrawAccepted,
    DrawRequest,
    DrawStage,
    DrawSummary,
    DrawView,
    LinePricing,
    LineView,
    MonitoringSignal,
    OpsLineAction,
    RepayRequest,
    RepayResult,
    SettleRequest,
    SettleResult,
)
from domain.lines import DrawStatus, Instalment, LimitAction, LineStatus, MonitoringEventKind
from domain.offer import AcceptOfferInput, BankCard
from domain.payoff import PayoffLine, PayoffQuote
from domain.payout import NewBankCardInput
from domain.pricing import build_schedule
from domain.reasons import Language, ReasonCode, applicant_reasons
from domain.status import ApplicationView

APP_ID = "a1b2c3d4e5f60718"
LINE_ID = APP_ID
DRAW_ID = f"draw-{LINE_ID}-1"
AT = datetime(2026, 11, 30, 9, 30, tzinfo=UTC)
TOKEN = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhMWIyYzNkNGU1ZjYwNzE4In0.c2lnbmF0dXJl"
CARD = BankCard(number="6222020200112233445", bank_code="ICBC", reserved_phone="13800138000")
SCHEDULE = build_schedule(500_000, 12, 0.18, 0.0, apr_cap=0.24)
DRAW_SCHEDULE = build_schedule(200_000, 6, 0.18, 0.0, apr_cap=0.24)
PRICING = LinePricing(
    annual_rate=0.18, monthly_fee_rate=0.0, apr_cap=0.24, terms=[3, 6, 12], grade="B"
)

_ROW = {
    "id": APP_ID,
    "product_code": "CASH_STD",
    "requested_amount": 300_000,
    "term_months": 12,
    "risk_grade": "C",
    "approved_limit": 1_000_000,
    "review_queue": "GREY_ZONE",
    "reasons": ["R008"],
    "updated_at": AT,
}
_LINE = LineView(
    line_id=LINE_ID,
    status=LineStatus.ACTIVE,
    limit=1_000_000,
    available=800_000,
    outstanding_principal=200_000,
    outstanding=206_000,
    overdue_days=0,
    next_due_on=date(2026, 12, 30),
    expires_at=datetime(2027, 11, 30, tzinfo=UTC),
    pricing=PRICING,
    min_draw=50_000,
    draws=[
        DrawSummary(
            draw_id=DRAW_ID,
            amount=200_000,
            term_months=6,
            status=DrawStatus.DISBURSED,
            disbursed_on=date(2026, 11, 30),
        )
    ],
    instalments=[
        Instalment(
            draw_id=DRAW_ID,
            period=1,
            due_on=date(2026, 12, 30),
            principal=32_400,
            interest=3_000,
            fee=0,
        )
    ],
)
_LIVE = ApplicationView(
    application_id=APP_ID,
    status=ApplicationStatus.MANUAL_REVIEW,
    next_action=NextAction.AWAIT_REVIEW,
    deadline=datetime(2026, 12, 3, 9, 30, tzinfo=UTC),
    review_queue="GREY_ZONE",
    history=[
        "SUBMITTED",
        "AWAITING_DOCUMENTS",
        "VERIFYING_IDENTITY",
        "AWAITING_CARRIER_AUTH",
        "DECISIONING",
        "MANUAL_REVIEW",
    ],
)

EXAMPLES: list[BaseModel] = [
    # applicant requests and answers
    SubmitDocumentsRequest(full_name="张三", id_number="11010519900307123X"),
    TokenRefreshRequest(refresh_token=TOKEN),
    ApplicantTokensOut(applicant_token=TOKEN, expires_at=AT, refresh_token=TOKEN),
    DocumentUploaded(kind="selfie", sha256="9f86d08" + "0" * 57, size=48_213),
    CarrierCodeInput(code="246810"),
    CarrierSmsResult(sent=True),
    CarrierAuthorized(accepted=True, attempts_left=2, status=ApplicationStatus.DECISIONING),
    AcceptOfferInput(amount=500_000, term_months=12, bank_card=CARD),
    OfferAccepted(accepted=True, schedule=SCHEDULE, status=ApplicationStatus.AWAITING_SIGNATURE),
    SignContractInput(otp="135790"),
    ContractSigned(signed=True, attempts_left=2, status=ApplicationStatus.PRE_PAYOUT_CHECK),
    NewBankCardInput(bank_card=CARD),
    NewBankCardAccepted(accepted=True, status=ApplicationStatus.DISBURSING),
    WithdrawInput(reason="changed my mind"),
    QuoteRequest(amount=500_000, term_months=12, application_id=APP_ID),
    SCHEDULE,
    # ops
    OpsSignIn(username="alice", password="correct horse battery staple"),
    OpsSessionOut(
        access_token=TOKEN,
        token_type="bearer",
        expires_at=AT,
        username="alice",
        role=OpsRole.REVIEWER,
    ),
    ReviewRequest(outcome=ReviewOutcome.APPROVE, approved_limit=800_000, note="payslip checked"),
    ReviewResult(status=ApplicationStatus.OFFERED),
    ReviewItem.model_validate(
        _ROW | {"opened_at": AT, "sla_deadline": datetime(2026, 11, 30, 13, 30, tzinfo=UTC)}
    ),
    ApplicationSummary.model_validate(
        _ROW | {"status": "MANUAL_REVIEW", "created_at": datetime(2026, 11, 30, 9, 12, tzinfo=UTC)}
    ),
    EvidenceResponse(
        application=ApplicationRecord.model_validate(
            _ROW
            | {
                "client_request_id": "7d0c6a52-2f1e-4b8e-9a3b-0c1d2e3f4a5b",
                "status": "MANUAL_REVIEW",
                "phone_masked": "138****8000",
                "device_fingerprint": "fp-0123456789",
                "ip": "10.0.0.8",
                "decision_outcome": "REVIEW",
                "reapply_after": None,
                "last_seq": 7,
                "created_at": datetime(2026, 11, 30, 9, 12, tzinfo=UTC),
            }
        ),
        documents=[
            DocumentRecord(
                kind="selfie",
                blob_key=f"applications/{APP_ID}/selfie",
                sha256="9f86d08" + "0" * 57,
                size=48_213,
                content_type="image/jpeg",
                uploaded_at=AT,
            )
        ],
        decisions=[
            DecisionRecordOut(
                stage="DECISIONING",
                outcome="REVIEW",
                policy_version="2026.11",
                policy_hash="3a7bd3e2",
                input_snapshot={},
                rules_fired=["GREY_ZONE"],
                reasons=["R008"],
                score=612,
                grade="C",
                approved_limit=1_000_000,
                annual_rate=0.18,
                duration_ms=4.2,
                created_at=AT,
            )
        ],
        disbursement=None,
        audit=[AuditOut(seq=7, event="REVIEW_OPENED", status="MANUAL_REVIEW", at=AT, data={})],
        live=_LIVE,
    ),
    OpsWithdrawRequest(reason="the applicant asked support"),
    _LIVE,
    BlacklistRequest(kind=BlacklistKind.DEVICE, value="fp-0123456789", reason="confirmed fraud"),
    BlacklistResponse(kind=BlacklistKind.DEVICE, added=True),
    BlacklistRemoval(kind=BlacklistKind.DEVICE, value="fp-0123456789"),
    BlacklistRemoved(kind=BlacklistKind.DEVICE, removed=True),
    # callbacks and the codec
    CallbackAck(status="accepted"),
    CodecPayloads(
        payloads=[CodecPayload(metadata={"encoding": "YmluYXJ5L2VuY3J5cHRlZA=="}, data="AAEC")]
    ),
    # credit lines
    _LINE,
    LineSchedule(
        next_due_on=date(2026, 12, 30),
        overdue_days=0,
        outstanding=206_000,
        instalments=_LINE.instalments,
    ),
    LineQuoteRequest(amount=200_000, term_months=6),
    DrawRequest(amount=200_000, term_months=6, reference="draw-req-0001"),
    DrawAccepted(
        draw_id=DRAW_ID, status=DrawStatus.PENDING, schedule=DRAW_SCHEDULE, available=800_000
    ),
    DrawView(
        draw_id=DRAW_ID,
        stage=DrawStage.FAILED,
        schedule=DRAW_SCHEDULE,
        esign_attempts_left=3,
        reasons=applicant_reasons([ReasonCode.D003_CARD_REFUSED], Language.ZH),
    ),
    SignContractResult(signed=True, attempts_left=2),
    RepayRequest(amount=35_400, reference="repay-0001"),
    RepayResult(
        reference="repay-0001",
        accepted=True,
        amount=35_400,
        principal=32_400,
        charges=3_000,
        available=832_400,
    ),
    PayoffQuote(
        as_of=date(2026, 12, 10),
        draw_id=DRAW_ID,
        principal=200_000,
        interest=1_000,
        fee=0,
        late_fee=0,
        waived=2_000,
        total=201_000,
        lines=[
            PayoffLine(
                instalment=f"{DRAW_ID}-p1",
                draw_id=DRAW_ID,
                period=1,
                due_on=date(2026, 12, 30),
                principal=200_000,
                interest=1_000,
                fee=0,
                late_fee=0,
                waived=2_000,
            )
        ],
    ),
    SettleRequest(amount=201_000, reference="settle-0001", draw_id=DRAW_ID),
    SettleResult(
        reference="settle-0001",
        accepted=True,
        amount=201_000,
        principal=200_000,
        charges=1_000,
        waived=2_000,
        available=1_000_000,
    ),
    OpsLineAction(action=LimitAction.FREEZE, note="fraud suspected"),
    MonitoringSignal(kind=MonitoringEventKind.BUREAU_ALERT, reference="alert-7", new_loans=4),
    LineEvidence(
        live=_LINE,
        events=[
            LineEventOut(
                seq=1,
                event="OPENED",
                actor="workflow",
                status="ACTIVE",
                credit_limit=1_000_000,
                available=1_000_000,
                outstanding_principal=0,
                overdue_days=0,
                reasons=[],
                data={},
                at=AT,
            )
        ],
    ),
]


def _schema_names(model: type[BaseModel]) -> set[str]:
    """The names FastAPI may give the model's schema: its class name, or its module path and
    class name when two models share a class name."""
    qualified = f"{model.__module__}.{model.__name__}".replace(".", "__")
    return {model.__name__, qualified}


def examples_for(schemas: dict[str, dict[str, Any]]) -> None:
    """Give every schema of the spec that has an example here and none of its own that one."""
    for example in EXAMPLES:
        for name in _schema_names(type(example)) & set(schemas):
            schemas[name].setdefault("examples", [example.model_dump(mode="json")])
