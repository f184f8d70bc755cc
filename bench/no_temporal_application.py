"""A loan application without a workflow engine: what a team without Temporal would write, for
`bench/baseline.py` to measure the workflow against.

One coroutine per application, through the activities of `bench/no_temporal.py`'s harness,
called in the order `LoanApplicationWorkflow` and `PayoutWorkflow` call them, with the same
parallel branch (card, liveness and the identity vendor, then the face match), the same store
projections, the same validation (`workflows.messages`) and the same state object. What it does
not have is what the engine gives: no history, no durable timers, no retries except the two
loops the happy path cannot do without (the carrier report poll with the workflow's back-off,
the payout settlement by callback with a query as fallback). Only the happy path is written:
an outcome the workflow would turn into a rejection, a retake or a review raises `NotApproved`.
The applicant's steps are taken at once, in code.
"""

from __future__ import annotations

import asyncio
import dataclasses
import random
import time
import uuid
from collections.abc import Awaitable
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from pydantic import BaseModel
from temporalio.exceptions import ApplicationError

from bench.no_temporal import InProcess
from devtools.applicant import Applicant
from domain.application import Consents, Device, StartApplicationInput
from domain.carrier import CarrierAuthorizeInput, CarrierReport, CarrierReportInput, CarrierSmsInput
from domain.contract import ContractInput, EsignEnvelopeInput, EsignSignInput, SealInput
from domain.decision import (
    BureauInput,
    DecisionInput,
    IdBlacklistInput,
    PrePayoutInput,
    PrescreenInput,
)
from domain.enums import (
    ApplicationStatus,
    DecisionOutcome,
    DocumentKind,
    LivenessAction,
    NextAction,
    PayoutStatus,
)
from domain.evidence import liveness_evidence
from domain.identity import (
    ActionWindow,
    DocumentRef,
    FaceEncodeInput,
    FaceMatchInput,
    IdCardInput,
    IdentityCheckInput,
    IdentityCheckResult,
    IdentityOutcome,
    LivenessChallenge,
    LivenessInput,
    SubmitDocumentsInput,
)
from domain.idnumber import parse_id_number
from domain.naming import ErrorType, payout_idempotency_key
from domain.offer import AcceptOfferInput, BankCard, BankCardCheckInput
from domain.payout import (
    DisbursementRecord,
    GatewayOrder,
    PaymentNotification,
    QueryPayoutInput,
    RouteInput,
    SubmitPayoutInput,
)
from domain.products import PRODUCTS
from domain.status import ProjectionInput
from store import queries
from workflows import calls, messages
from workflows.application import CHALLENGE_ACTIONS, CHALLENGE_WINDOW_SECONDS
from workflows.calls import ActivityCall
from workflows.options import carrier_report_poll
from workflows.payout import FINAL, MAX_POLL_INTERVAL
from workflows.state import ApplicationState

I = TypeVar("I", bound=BaseModel)  # noqa: E741
R = TypeVar("R")

# The applicant's side, as `devtools.applicant.ApplicantSession` takes it.
AMOUNT, TERM, PRODUCT = 1_000_000, 12, "CASH_STD"
CARRIER_CODE, ESIGN_OTP = "246810", "135790"
UPLOADS = {
    DocumentKind.ID_FRONT: ("id_front.jpg", "image/jpeg"),
    DocumentKind.ID_BACK: ("id_back.jpg", "image/jpeg"),
    DocumentKind.SELFIE: ("selfie.jpg", "image/jpeg"),
}
# Stages whose time is the system's, as the applicant waits for them (the rest is theirs).
STAGES = ("start", "identity", "decision", "contract", "payout")


class NotApproved(RuntimeError):
    """The application left the happy path, the only one written here."""


def make_challenge(rng: random.Random) -> LivenessChallenge:
    """The workflow's challenge (`workflows.application._make_challenge`), from `rng`."""
    actions = rng.sample(list(LivenessAction), CHALLENGE_ACTIONS)
    return LivenessChallenge(
        nonce=str(uuid.UUID(int=rng.getrandbits(128))),
        windows=[
            ActionWindow(
                action=action,
                start_s=i * CHALLENGE_WINDOW_SECONDS,
                end_s=(i + 1) * CHALLENGE_WINDOW_SECONDS,
            )
            for i, action in enumerate(actions)
        ],
    )


@dataclasses.dataclass
class Result:
    application_id: str
    status: ApplicationStatus
    timings: dict[str, float]


class Application:
    """One application's stages, in the workflow's order; `timings` holds the system's part of
    each stage the applicant waits for."""

    def __init__(
        self,
        system: InProcess,
        person: Applicant,
        videos: dict[tuple[LivenessAction, ...], bytes],
        rng: random.Random,
    ) -> None:
        self.sys, self.person, self.videos = system, person, videos
        self.id = "app_" + uuid.UUID(int=rng.getrandbits(128)).hex[:24]
        self.inp = StartApplicationInput(
            application_id=self.id,
            client_request_id=str(uuid.UUID(int=rng.getrandbits(128))),
            product=PRODUCTS[PRODUCT],
            phone=person.phone,
            requested_amount=AMOUNT,
            requested_term=TERM,
            device=Device(fingerprint=f"dev-{rng.getrandbits(64):016x}", ip="203.0.113.7",
                          os="Android 15"),
            consents=Consents(privacy_policy=True, credit_inquiry=True, carrier_data=True),
            submitted_at=datetime.now(UTC),
        )  # fmt: skip
        self.s = ApplicationState.start(self.inp, make_challenge(rng))
        self.timings: dict[str, float] = {}

    async def call(self, call: ActivityCall[I, R], arg: I) -> R:
        return await self.sys.call(call, arg, self.id)

    async def _identity_then_faces(
        self, refs: dict[DocumentKind, DocumentRef]
    ) -> IdentityCheckResult:
        """As the workflow does: the identity vendor, then the still faces encoded ahead."""
        identity = await self.call(
            calls.verify_identity,
            IdentityCheckInput(application_id=self.id, applicant=self.s.applicant()),
        )
        if identity.matched:
            await self.call(
                calls.encode_faces,
                FaceEncodeInput(application_id=self.id, selfie=refs[DocumentKind.SELFIE],
                                reference_portrait=identity.reference_portrait),
            )  # fmt: skip
        return identity

    async def run(self) -> Result:
        await self._timed("start", self._start())
        submitted = await self._upload()  # the applicant's step, not the system's
        await self._timed("identity", self._identity(submitted))
        await self._timed("decision", self._decision())
        await self._timed("contract", self._contract())
        await self._timed("payout", self._payout())
        return Result(self.id, self.s.status, self.timings)

    async def _timed(self, stage: str, step: Awaitable[None]) -> None:
        started = time.perf_counter()
        await step
        self.timings[stage] = time.perf_counter() - started

    # ------------------------------------------------------------ stages 1 and 2

    async def _start(self) -> None:
        inp = self.inp
        await self.call(calls.register_application, inp)
        await self._enter(ApplicationStatus.SUBMITTED, NextAction.WAIT, "SUBMITTED")
        screen = await self.call(
            calls.prescreen,
            PrescreenInput(application_id=self.id, phone=inp.phone, device=inp.device,
                           submitted_at=inp.submitted_at),
        )  # fmt: skip
        self._require(screen.passed, "pre-screen", screen.reasons)
        timeout = inp.product.timeouts.documents
        await self._enter(
            ApplicationStatus.AWAITING_DOCUMENTS, NextAction.UPLOAD_DOCUMENTS,
            "AWAITING_DOCUMENTS", timeout,
        )  # fmt: skip

    async def _upload(self) -> SubmitDocumentsInput:
        """The applicant's uploads, kept as the API keeps them (blob store, then the store)."""
        files = {kind: (self.person.samples / name).read_bytes() for kind, (name, _) in
                 UPLOADS.items()}  # fmt: skip
        actions = tuple(w.action for w in self.s.challenge.windows)
        files[DocumentKind.LIVENESS_VIDEO] = self.videos[actions]
        refs = []
        for kind, data in files.items():
            key, digest = await asyncio.to_thread(
                self.sys.blobs.put, f"documents/{self.id}/{kind.value}", data
            )
            content_type = UPLOADS[kind][1] if kind in UPLOADS else "video/mp4"
            ref = DocumentRef(kind=kind, blob_key=key, sha256=digest, size=len(data),
                              content_type=content_type)  # fmt: skip
            await queries.in_thread(self.sys.engine, queries.upsert_document, self.id, ref)
            refs.append(ref)
        return SubmitDocumentsInput(
            documents=refs, full_name=self.person.name, id_number=self.person.id_number.upper()
        )

    # ------------------------------------------------------------ stage 3

    async def _identity(self, submitted: SubmitDocumentsInput) -> None:
        messages.check_documents(self.s, submitted)
        id_number = parse_id_number(submitted.id_number)
        self.s.docs = docs = submitted.model_copy(update={"id_number": id_number.value})
        self.s.document_attempts_left -= 1
        await self._enter(
            ApplicationStatus.VERIFYING_IDENTITY, NextAction.WAIT, "VERIFYING_IDENTITY",
            id_number=docs.id_number,
        )  # fmt: skip
        listed = await self.call(
            calls.check_id_blacklist,
            IdBlacklistInput(application_id=self.id, id_number=id_number.value,
                             phone=self.inp.phone, device_fingerprint=self.inp.device.fingerprint),
        )  # fmt: skip
        self._require(listed.passed, "ID blacklist", listed.reasons)
        refs = {d.kind: d for d in docs.documents}
        card, liveness, identity = await asyncio.gather(
            self.call(
                calls.inspect_id_card,
                IdCardInput(
                    application_id=self.id, front=refs[DocumentKind.ID_FRONT],
                    back=refs[DocumentKind.ID_BACK],
                    application_date=self.inp.submitted_at.date(),
                    claimed_name=docs.full_name, claimed_id_number=id_number.value,
                ),
            ),
            self.call(
                calls.check_liveness,
                LivenessInput(
                    application_id=self.id, video=refs[DocumentKind.LIVENESS_VIDEO],
                    challenge=self.s.challenge,
                    same_person_threshold=self.inp.product.face_match_threshold,
                ),
            ),
            self._identity_then_faces(refs),
        )  # fmt: skip
        self.s.identity_evidence = card.evidence | liveness_evidence(liveness, self.s.challenge)
        self._require(identity.matched, "identity vendor", [identity.detail])
        self._require(card.passed, "ID card", card.reasons)
        self._require(liveness.passed, "liveness", liveness.reasons)
        match = await self.call(
            calls.match_faces,
            FaceMatchInput(
                application_id=self.id, selfie=refs[DocumentKind.SELFIE],
                id_front=refs[DocumentKind.ID_FRONT],
                reference_portrait=identity.reference_portrait,
                video=refs[DocumentKind.LIVENESS_VIDEO],
                threshold=self.inp.product.face_match_threshold,
            ),
        )  # fmt: skip
        self._require(match.passed, "face match", match.reasons)
        self.s.identity = IdentityOutcome(
            passed=True, age=id_number.age_on(self.inp.submitted_at.date()),
            is_male=id_number.is_male, face_distance=match.distance_reference,
            liveness_passed=True,
        )  # fmt: skip
        await self._project(
            "IDENTITY_VERIFIED",
            data={
                "face_distance_card": match.distance_card,
                "face_distance_reference": match.distance_reference,
                "face_distance_video": match.distance_video,
            }
            | self.s.identity_evidence,
        )
        await self._enter(
            ApplicationStatus.AWAITING_CARRIER_AUTH, NextAction.AUTHORIZE_CARRIER,
            "AWAITING_CARRIER_AUTH", self.inp.product.timeouts.carrier_auth,
        )  # fmt: skip

    # ------------------------------------------------------------ stages 4 and 5

    async def _decision(self) -> None:
        # As the workflow does: the bureau report is fetched while the applicant authorizes.
        bureau = asyncio.create_task(
            self.call(
                calls.bureau_fetch_report,
                BureauInput(application_id=self.id, applicant=self.s.applicant()),
            )
        )
        messages.check_carrier_sms(self.s)
        await self.call(
            calls.carrier_send_sms, CarrierSmsInput(application_id=self.id, phone=self.inp.phone)
        )
        messages.check_carrier_code(self.s)
        auth = await self.call(
            calls.carrier_authorize,
            CarrierAuthorizeInput(
                application_id=self.id, applicant=self.s.applicant(), code=CARRIER_CODE
            ),
        )
        self._require(auth.accepted and auth.task_id is not None, "carrier code", [auth.detail])
        self.s.carrier_task_id = auth.task_id
        self.s.set_next(NextAction.WAIT, None)
        self.s.carrier_report = await self._carrier_report()
        await self._enter(ApplicationStatus.DECISIONING, NextAction.WAIT, "DECISIONING")
        self.s.bureau = await bureau
        assert self.s.identity is not None
        decision = await self.call(
            calls.decide,
            DecisionInput(
                application_id=self.id, product=self.inp.product,
                requested_amount=self.inp.requested_amount,
                requested_term=self.inp.requested_term, decided_on=datetime.now(UTC).date(),
                identity=self.s.identity, bureau=self.s.bureau, carrier=self.s.carrier_report,
                device=self.inp.device,
            ),
        )  # fmt: skip
        self.s.decision, self.s.offer = decision, decision.offer
        await self._project(
            "DECIDED", decision_outcome=decision.outcome, risk_grade=decision.grade,
            approved_limit=decision.offer.limit if decision.offer else None,
            reasons=decision.reasons,
        )  # fmt: skip
        approved = decision.outcome == DecisionOutcome.APPROVE and decision.offer is not None
        self._require(approved, f"decision {decision.outcome}", decision.reasons)
        assert decision.offer is not None
        expires = datetime.now(UTC) + self.inp.product.timeouts.offer
        self.s.offer = decision.offer.model_copy(update={"expires_at": expires})
        await self._enter(
            ApplicationStatus.OFFERED, NextAction.ACCEPT_OFFER, "OFFERED",
            self.inp.product.timeouts.offer,
        )  # fmt: skip

    async def _carrier_report(self) -> CarrierReport:
        """The activity polls the report itself; a report still pending after its budget is
        retried as the workflow's retry policy does: same first interval, back-off and cap."""
        retry = carrier_report_poll(self.inp.product.timeouts.carrier_report).retry
        interval = retry.initial_interval.total_seconds()
        arg = CarrierReportInput(application_id=self.id, task_id=self.s.carrier_task_id or "")
        while True:
            try:
                return await self.call(calls.carrier_fetch_report, arg)
            except ApplicationError as exc:
                if exc.type != ErrorType.REPORT_PENDING:
                    raise
            await asyncio.sleep(interval)
            cap = retry.maximum_interval.total_seconds() if retry.maximum_interval else interval
            interval = min(interval * retry.backoff_coefficient, cap)

    # ------------------------------------------------------------ stages 7 and 8

    async def _contract(self) -> None:
        p = self.person
        offer = self.s.offer
        assert offer is not None
        card = BankCard(number=p.card_number, bank_code=p.bank_code, reserved_phone=p.phone)
        accept = AcceptOfferInput(amount=min(AMOUNT, offer.limit), term_months=TERM,
                                  bank_card=card)  # fmt: skip
        schedule = messages.check_accept(self.s, accept, datetime.now(UTC))
        check = await self.call(
            calls.bankcard_verify,
            BankCardCheckInput(application_id=self.id, applicant=self.s.applicant(), card=card),
        )
        self._require(check.verified, "bank card", [check.detail])
        self.s.schedule, self.s.card, self.s.accepted = schedule, card, accept
        contract = await self.call(
            calls.contract_generate,
            ContractInput(application_id=self.id, applicant=self.s.applicant(),
                          product_name=self.inp.product.name, schedule=schedule,
                          generated_at=datetime.now(UTC)),
        )  # fmt: skip
        envelope = await self.call(
            calls.esign_create_envelope,
            EsignEnvelopeInput(application_id=self.id, applicant=self.s.applicant(),
                               contract=contract),
        )  # fmt: skip
        self.s.envelope_id = envelope.envelope_id
        await self._enter(
            ApplicationStatus.AWAITING_SIGNATURE, NextAction.SIGN_CONTRACT, "AWAITING_SIGNATURE",
            self.inp.product.timeouts.signature, data={"contract_sha256": contract.sha256},
        )  # fmt: skip

    # ------------------------------------------------------------ stages 8 to 11

    async def _payout(self) -> None:
        messages.check_sign(self.s)
        signed = await self.call(
            calls.esign_sign,
            EsignSignInput(application_id=self.id, envelope_id=self.s.envelope_id or "",
                           otp=ESIGN_OTP),
        )  # fmt: skip
        self._require(signed.signed and signed.signed_contract is not None, "e-sign", [])
        assert signed.signed_contract is not None
        self.s.signed_contract = signed.signed_contract
        sealed = await self.call(
            calls.contract_seal, SealInput(application_id=self.id, contract=signed.signed_contract)
        )
        self.s.sealed_contract = sealed
        await self._project("CONTRACT_SIGNED", data={"sealed_sha256": sealed.sha256})
        await self._enter(ApplicationStatus.PRE_PAYOUT_CHECK, NextAction.WAIT, "PRE_PAYOUT_CHECK")
        assert self.s.bureau is not None
        check = await self.call(
            calls.pre_payout_check,
            PrePayoutInput(
                application_id=self.id, applicant=self.s.applicant(),
                device_fingerprint=self.inp.device.fingerprint,
                bureau_fetched_at=self.s.bureau.fetched_at,
                max_bureau_age_seconds=self.inp.product.bureau_max_age.total_seconds(),
            ),
        )  # fmt: skip
        held = check.outcome in (DecisionOutcome.REJECT, DecisionOutcome.REVIEW)
        self._require(not held, f"pre-payout check {check.outcome}", check.reasons)
        await self._enter(ApplicationStatus.DISBURSING, NextAction.WAIT, "DISBURSING")
        order = await self._disburse()
        self.s.payout_order_id = order.order_id
        await self._finish(ApplicationStatus.DISBURSED, "DISBURSED")

    async def _disburse(self) -> GatewayOrder:
        """`PayoutWorkflow`'s happy path: route, submit under the key, settle, record."""
        accepted, card = self.s.accepted, self.s.card
        assert accepted is not None and card is not None and self.s.docs is not None
        key = payout_idempotency_key(self.id)
        routes = await self.call(
            calls.payout_route,
            RouteInput(application_id=self.id, bank_code=card.bank_code, amount=accepted.amount,
                       exclude=[]),
        )  # fmt: skip
        self._require(bool(routes.channels), "payout route", [])
        with self.sys.receiver.expect(key) as notices:
            order = await self.call(
                calls.payout_submit,
                SubmitPayoutInput(
                    application_id=self.id, idempotency_key=key, amount=accepted.amount,
                    account_name=self.s.docs.full_name, card_number=card.number,
                    bank_code=card.bank_code, channel=routes.channels[0],
                ),
            )  # fmt: skip
            order = await self._settle(order, notices)
        self._require(order.status == PayoutStatus.SUCCEEDED, f"payout {order.status}", [])
        await self.call(
            calls.payout_record,
            DisbursementRecord(
                application_id=self.id, idempotency_key=order.idempotency_key,
                order_id=order.order_id, amount=accepted.amount, channel=order.channel,
                card_last4=card.number[-4:], status=order.status,
            ),
        )  # fmt: skip
        return order

    async def _settle(
        self, order: GatewayOrder, notices: asyncio.Queue[PaymentNotification]
    ) -> GatewayOrder:
        """The callback of this attempt, or a query when it does not come in time."""
        wait = self.inp.product.timeouts.payout_callback
        while order.status not in FINAL:
            try:
                notice = await asyncio.wait_for(notices.get(), wait.total_seconds())
            except TimeoutError:
                order = await self.call(
                    calls.payout_query,
                    QueryPayoutInput(application_id=self.id, idempotency_key=order.idempotency_key),
                )
                wait = min(wait * 2, MAX_POLL_INTERVAL)
                continue
            if notice.attempt == order.attempt and notice.status in FINAL:
                update = {"status": notice.status, "failure": notice.failure,
                          "channel": notice.channel}  # fmt: skip
                order = order.model_copy(update=update)
        return order

    # ------------------------------------------------------------ moving between stages

    def _require(self, ok: bool, step: str, reasons: list[Any]) -> None:
        if not ok:
            raise NotApproved(f"{self.id}: {step} failed: {reasons}")

    async def _enter(
        self,
        status: ApplicationStatus,
        next_action: NextAction,
        event: str,
        timeout: timedelta | None = None,
        **projection: Any,
    ) -> None:
        self.s.status = status
        self.s.history.append(status)
        self.s.set_next(next_action, datetime.now(UTC) + timeout if timeout else None)
        await self._project(event, **projection)

    async def _finish(self, status: ApplicationStatus, event: str) -> None:
        self.s.status = status
        self.s.history.append(status)
        self.s.set_next(NextAction.NONE, None)
        await self._project(event, reasons=[], reapply_after=None)

    async def _project(self, event: str, **fields: Any) -> None:
        self.s.seq += 1
        base: dict[str, Any] = {
            "application_id": self.id,
            "seq": self.s.seq,
            "status": self.s.status,
            "event": event,
            "at": datetime.now(UTC),
            "review_queue": None,
        }
        await self.call(calls.project, ProjectionInput(**(base | fields)))


async def run_application(
    system: InProcess, person: Applicant, videos: dict[tuple[LivenessAction, ...], bytes], seed: int
) -> Result:
    """One application from start to DISBURSED; its ids and challenge drawn from `seed`."""
    return await Application(system, person, videos, random.Random(seed)).run()
