"""Stand-in activities registered under the real names, driven by a Scenario, so that every
branch of the workflows can be reached without vendors, models or a database."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from temporalio import activity
from temporalio.client import Client
from temporalio.exceptions import ApplicationError

from domain.application import Consents, Device, StartApplicationInput
from domain.carrier import (
    CarrierAuthorizeInput,
    CarrierAuthorizeResult,
    CarrierReport,
    CarrierReportInput,
    CarrierSmsInput,
    CarrierSmsResult,
)
from domain.contract import (
    ContractDocument,
    ContractInput,
    EsignEnvelope,
    EsignEnvelopeInput,
    EsignSignInput,
    EsignSignResult,
    SealInput,
)
from domain.decision import (
    BureauInput,
    BureauReport,
    Decision,
    DecisionInput,
    IdBlacklistInput,
    Offer,
    PrePayoutInput,
    PrePayoutResult,
    PrescreenInput,
    PrescreenResult,
)
from domain.enums import (
    DecisionOutcome,
    DocumentKind,
    PayoutFailure,
    PayoutStatus,
)
from domain.identity import (
    DocumentRef,
    FaceEncodeInput,
    FaceEncodeResult,
    FaceMatchInput,
    FaceMatchResult,
    IdCardInput,
    IdCardResult,
    IdentityCheckInput,
    IdentityCheckResult,
    LivenessInput,
    LivenessResult,
    SubmitDocumentsInput,
)
from domain.idnumber import make_id_number
from domain.naming import ActivityName, SignalName, payout_workflow_id
from domain.offer import AcceptOfferInput, BankCard, BankCardCheckInput, BankCardCheckResult
from domain.payout import (
    DisbursementRecord,
    GatewayOrder,
    PaymentNotification,
    QueryPayoutInput,
    RouteInput,
    RouteResult,
    SubmitPayoutInput,
)
from domain.products import PRODUCTS
from domain.reasons import ReasonCode
from domain.status import ProjectionInput

GOOD_CARD = BankCard(number="6222020200112233445", bank_code="ICBC", reserved_phone="13800138000")
OTHER_CARD = BankCard(number="6222020200199887766", bank_code="CMB", reserved_phone="13800138000")
ID_NUMBER = make_id_number("110101", datetime(1985, 6, 15).date(), 11)
SHA = "0" * 64


@dataclass
class Scenario:
    """Knobs for the stand-ins; defaults give an approved, disbursed application."""

    prescreen_reasons: list[ReasonCode] = field(default_factory=list)
    id_blacklisted: bool = False
    identity_matched: bool = True
    liveness_reasons: list[ReasonCode] = field(default_factory=list)
    liveness_failures_left: int = 0
    face_match: bool = True
    carrier_code: str = "246810"
    decision: DecisionOutcome = DecisionOutcome.APPROVE
    policy_error: bool = False
    pre_payout: DecisionOutcome = DecisionOutcome.APPROVE
    card_verified: bool = True
    esign_otp: str = "135790"
    channel_errors: int = 0
    invalid_card: str | None = None
    send_callbacks: bool = True
    channels: tuple[str, ...] = ("UNIONPAY", "NETSUNION")


@dataclass
class Recorder:
    """What the stand-ins saw; the tests assert on it."""

    calls: list[str] = field(default_factory=list)
    projections: list[ProjectionInput] = field(default_factory=list)
    disbursements: list[DisbursementRecord] = field(default_factory=list)
    payouts: list[SubmitPayoutInput] = field(default_factory=list)
    gateway_successes: dict[str, int] = field(default_factory=dict)


def offer(limit: int = 2_000_000) -> Offer:
    return Offer(
        limit=limit,
        min_amount=50_000,
        terms=[3, 6, 12],
        annual_rate=0.18,
        monthly_fee_rate=0.0,
        apr_cap=0.24,
        grade="C",
    )


class FakeActivities:
    def __init__(self, scenario: Scenario, client: Client) -> None:
        self.s = scenario
        self.client = client
        self.rec = Recorder()
        self._orders: dict[str, GatewayOrder] = {}
        self._liveness_failures = scenario.liveness_failures_left

    def _saw(self, name: str) -> None:
        self.rec.calls.append(name)

    @activity.defn(name=ActivityName.REGISTER_APPLICATION)
    async def register(self, inp: StartApplicationInput) -> None:
        self._saw(ActivityName.REGISTER_APPLICATION)

    @activity.defn(name=ActivityName.PROJECT)
    async def project(self, inp: ProjectionInput) -> None:
        if all(p.seq != inp.seq for p in self.rec.projections):
            self.rec.projections.append(inp)

    @activity.defn(name=ActivityName.PRESCREEN)
    async def prescreen(self, inp: PrescreenInput) -> PrescreenResult:
        self._saw(ActivityName.PRESCREEN)
        return PrescreenResult(
            passed=not self.s.prescreen_reasons, reasons=self.s.prescreen_reasons
        )

    @activity.defn(name=ActivityName.CHECK_ID_BLACKLIST)
    async def id_blacklist(self, inp: IdBlacklistInput) -> PrescreenResult:
        if self.s.id_blacklisted:
            return PrescreenResult(passed=False, reasons=[ReasonCode.P001_BLACKLISTED])
        return PrescreenResult(passed=True)

    @activity.defn(name=ActivityName.INSPECT_ID_CARD)
    async def inspect(self, inp: IdCardInput) -> IdCardResult:
        self._saw(ActivityName.INSPECT_ID_CARD)
        return IdCardResult(passed=True, portrait_found=True)

    @activity.defn(name=ActivityName.CHECK_LIVENESS)
    async def liveness(self, inp: LivenessInput) -> LivenessResult:
        self._saw(ActivityName.CHECK_LIVENESS)
        if self.s.liveness_reasons and self._liveness_failures != 0:
            self._liveness_failures -= 1
            return LivenessResult(passed=False, reasons=self.s.liveness_reasons)
        return LivenessResult(passed=True, frames_sampled=10, frames_with_one_face=10)

    @activity.defn(name=ActivityName.MATCH_FACES)
    async def match(self, inp: FaceMatchInput) -> FaceMatchResult:
        self._saw(ActivityName.MATCH_FACES)
        if self.s.face_match:
            return FaceMatchResult(passed=True, distance_card=0.3, distance_reference=0.35)
        return FaceMatchResult(passed=False, reasons=[ReasonCode.I003_FACE_MISMATCH])

    @activity.defn(name=ActivityName.ENCODE_FACES)
    async def encode(self, inp: FaceEncodeInput) -> FaceEncodeResult:
        self._saw(ActivityName.ENCODE_FACES)
        return FaceEncodeResult(selfie_encoded=True)

    @activity.defn(name=ActivityName.VERIFY_IDENTITY)
    async def identity(self, inp: IdentityCheckInput) -> IdentityCheckResult:
        return IdentityCheckResult(matched=self.s.identity_matched)

    @activity.defn(name=ActivityName.CARRIER_SEND_SMS)
    async def sms(self, inp: CarrierSmsInput) -> CarrierSmsResult:
        self._saw(ActivityName.CARRIER_SEND_SMS)
        return CarrierSmsResult(sent=True)

    @activity.defn(name=ActivityName.CARRIER_AUTHORIZE)
    async def authorize(self, inp: CarrierAuthorizeInput) -> CarrierAuthorizeResult:
        if inp.code == self.s.carrier_code:
            return CarrierAuthorizeResult(accepted=True, task_id="task-1")
        return CarrierAuthorizeResult(accepted=False, detail="wrong code")

    @activity.defn(name=ActivityName.CARRIER_FETCH_REPORT)
    async def carrier_report(self, inp: CarrierReportInput) -> CarrierReport:
        if activity.info().attempt < 2:
            raise ApplicationError("report not ready", type="REPORT_PENDING")
        return CarrierReport(
            months_on_network=36,
            real_name_match=True,
            contacts_in_call_log=5,
            night_call_ratio=0.05,
            monthly_bill_avg=9_000,
        )

    @activity.defn(name=ActivityName.BUREAU_FETCH_REPORT)
    async def bureau(self, inp: BureauInput) -> BureauReport:
        self._saw(ActivityName.BUREAU_FETCH_REPORT)
        return BureauReport(has_record=True, score=700, monthly_income=1_500_000, fetched_at=_now())

    @activity.defn(name=ActivityName.DECIDE)
    async def decide(self, inp: DecisionInput) -> Decision:
        self._saw(ActivityName.DECIDE)
        if self.s.policy_error:
            raise ApplicationError(
                "offer outside the product", type="POLICY_ERROR", non_retryable=True
            )
        outcome = self.s.decision
        return Decision(
            outcome=outcome,
            reasons=[ReasonCode.R002_CURRENT_OVERDUE] if outcome == DecisionOutcome.REJECT else [],
            score=700,
            grade="C",
            offer=None if outcome == DecisionOutcome.REJECT else offer(),
            policy_version="test",
            policy_hash="0" * 64,
            review_queue="GREY_ZONE" if outcome == DecisionOutcome.REVIEW else None,
        )

    @activity.defn(name=ActivityName.PRE_PAYOUT_CHECK)
    async def pre_payout(self, inp: PrePayoutInput) -> PrePayoutResult:
        outcome = self.s.pre_payout
        reasons = [] if outcome == DecisionOutcome.APPROVE else [ReasonCode.D001_PRE_PAYOUT_RISK]
        return PrePayoutResult(outcome=outcome, reasons=reasons)

    @activity.defn(name=ActivityName.BANKCARD_VERIFY)
    async def card(self, inp: BankCardCheckInput) -> BankCardCheckResult:
        return BankCardCheckResult(
            verified=self.s.card_verified, detail="" if self.s.card_verified else "MISMATCH"
        )

    @activity.defn(name=ActivityName.CONTRACT_GENERATE)
    async def contract(self, inp: ContractInput) -> ContractDocument:
        return ContractDocument(
            blob_key=f"documents/{inp.application_id}/contract/x", sha256=SHA, pages=2
        )

    @activity.defn(name=ActivityName.ESIGN_CREATE_ENVELOPE)
    async def envelope(self, inp: EsignEnvelopeInput) -> EsignEnvelope:
        return EsignEnvelope(envelope_id="env-1")

    @activity.defn(name=ActivityName.ESIGN_SIGN)
    async def sign(self, inp: EsignSignInput) -> EsignSignResult:
        if inp.otp != self.s.esign_otp:
            return EsignSignResult(signed=False, detail="WRONG_OTP")
        doc = ContractDocument(
            blob_key=f"documents/{inp.application_id}/signed/x", sha256=SHA, pages=2
        )
        return EsignSignResult(signed=True, signed_contract=doc)

    @activity.defn(name=ActivityName.CONTRACT_SEAL)
    async def seal(self, inp: SealInput) -> ContractDocument:
        return inp.contract.model_copy(
            update={"blob_key": f"documents/{inp.application_id}/sealed/x"}
        )

    @activity.defn(name=ActivityName.PAYOUT_ROUTE)
    async def route(self, inp: RouteInput) -> RouteResult:
        return RouteResult(channels=[c for c in self.s.channels if c not in inp.exclude])

    @activity.defn(name=ActivityName.PAYOUT_SUBMIT)
    async def submit(self, inp: SubmitPayoutInput) -> GatewayOrder:
        """A gateway with one order per idempotency key: a repeat while pending or succeeded
        returns the same order, a repeat after a failure is a new attempt."""
        self.rec.payouts.append(inp)
        key = inp.idempotency_key
        existing = self._orders.get(key)
        if existing and existing.status in (PayoutStatus.PENDING, PayoutStatus.SUCCEEDED):
            return existing
        attempt = existing.attempt + 1 if existing else 1
        status, failure = PayoutStatus.SUCCEEDED, None
        if self.s.channel_errors > 0:
            self.s.channel_errors -= 1
            status, failure = PayoutStatus.FAILED, PayoutFailure.CHANNEL_ERROR
        elif self.s.invalid_card and inp.card_number == self.s.invalid_card:
            status, failure = PayoutStatus.FAILED, PayoutFailure.INVALID_CARD
        final = GatewayOrder(
            order_id=f"ord-{attempt}",
            idempotency_key=key,
            status=status,
            channel=inp.channel,
            failure=failure,
            attempt=attempt,
        )
        if status == PayoutStatus.SUCCEEDED:
            self.rec.gateway_successes[key] = self.rec.gateway_successes.get(key, 0) + 1
        self._orders[key] = final
        if self.s.send_callbacks:
            handle = self.client.get_workflow_handle(payout_workflow_id(inp.application_id))
            await handle.signal(
                SignalName.PAYMENT_NOTIFICATION,
                PaymentNotification(
                    order_id=final.order_id,
                    idempotency_key=key,
                    status=status,
                    channel=inp.channel,
                    attempt=attempt,
                    failure=failure,
                ),
            )
        return final.model_copy(update={"status": PayoutStatus.PENDING, "failure": None})

    @activity.defn(name=ActivityName.PAYOUT_QUERY)
    async def query(self, inp: QueryPayoutInput) -> GatewayOrder:
        self._saw(ActivityName.PAYOUT_QUERY)
        return self._orders[inp.idempotency_key]

    @activity.defn(name=ActivityName.PAYOUT_RECORD)
    async def record(self, inp: DisbursementRecord) -> None:
        if all(d.application_id != inp.application_id for d in self.rec.disbursements):
            self.rec.disbursements.append(inp)

    def main_activities(self) -> list:
        vision = {self.inspect, self.liveness, self.match}
        return [a for a in self.all() if a not in vision]

    def vision_activities(self) -> list:
        return [self.inspect, self.liveness, self.match, self.encode]

    def all(self) -> list:
        return [
            self.register,
            self.project,
            self.prescreen,
            self.id_blacklist,
            self.inspect,
            self.liveness,
            self.match,
            self.identity,
            self.sms,
            self.authorize,
            self.carrier_report,
            self.bureau,
            self.decide,
            self.pre_payout,
            self.card,
            self.contract,
            self.envelope,
            self.sign,
            self.seal,
            self.route,
            self.submit,
            self.query,
            self.record,
        ]


def _now() -> datetime:
    return datetime.now(UTC)


def start_input(
    *, search_attributes: bool, vision_queue: str, product_code: str = "CASH_STD"
) -> StartApplicationInput:
    app_id = f"app_{uuid.uuid4().hex[:20]}"
    return StartApplicationInput(
        application_id=app_id,
        client_request_id=f"req-{app_id}",
        product=PRODUCTS[product_code],
        phone="13800138000",
        requested_amount=1_000_000,
        requested_term=12,
        device=Device(fingerprint="device-fp-0001", ip="10.0.0.8", os="Android 15"),
        consents=Consents(privacy_policy=True, credit_inquiry=True, carrier_data=True),
        submitted_at=_now(),
        vision_task_queue=vision_queue,
        upsert_search_attributes=search_attributes,
    )


def documents(full_name: str = "欧阳明", id_number: str = ID_NUMBER) -> SubmitDocumentsInput:
    return SubmitDocumentsInput(
        documents=[
            DocumentRef(
                kind=kind,
                blob_key=f"documents/x/{kind}",
                sha256=SHA,
                size=10,
                content_type="image/jpeg",
            )
            for kind in (
                DocumentKind.ID_FRONT,
                DocumentKind.ID_BACK,
                DocumentKind.SELFIE,
                DocumentKind.LIVENESS_VIDEO,
            )
        ],
        full_name=full_name,
        id_number=id_number,
    )


def acceptance(
    amount: int = 1_000_000, term: int = 12, card: BankCard = GOOD_CARD
) -> AcceptOfferInput:
    return AcceptOfferInput(amount=amount, term_months=term, bank_card=card)


HOUR = timedelta(hours=1)
