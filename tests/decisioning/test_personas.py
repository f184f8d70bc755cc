"""The simulators' personas keep their documented paths through the default policy (the demo
and the end-to-end tests rely on them): reports as the mocks produce them, decided as stage 5
would."""

from __future__ import annotations

import random
from datetime import date

import pytest

from decisioning import evaluate
from decisioning.evaluator import PolicyEvaluator
from decisioning.loader import Policy
from domain.application import Device
from domain.carrier import CarrierReport
from domain.decision import BureauReport, Decision, DecisionInput
from domain.enums import DecisionOutcome as O
from domain.identity import IdentityOutcome
from domain.idnumber import make_id_number, parse_id_number
from domain.reasons import ReasonCode as RC
from mocks.personas import (
    DEMO_APPROVE,
    DEMO_REVIEW,
    bureau_report_for,
    carrier_report_for,
    id_number_in_bucket,
)
from tests.decisioning.conftest import NOW, STD

E2E_PHONE = "13612345678"  # the end-to-end tests and the demo use phones ending in 8


def persona_input(
    id_number: str, phone: str = E2E_PHONE, ip_province: str | None = None
) -> DecisionInput:
    device = (
        None
        if ip_province is None
        else Device(
            fingerprint="dev-0123456789", ip="203.0.113.7", os="Android 15", ip_province=ip_province
        )
    )
    return DecisionInput(
        application_id="persona",
        product=STD,
        requested_amount=1_000_000,
        requested_term=12,
        decided_on=NOW.date(),
        identity=IdentityOutcome(
            passed=True,
            age=parse_id_number(id_number).age_on(NOW.date()),
            face_distance=0.35,
            liveness_passed=True,
        ),
        bureau=BureauReport.model_validate(bureau_report_for(id_number, NOW)),
        carrier=CarrierReport.model_validate(carrier_report_for(phone)),
        device=device,
    )


@pytest.fixture
def decide(policy_evaluator: PolicyEvaluator, policy: Policy):  # type: ignore[no-untyped-def]
    def run(id_number: str, phone: str = E2E_PHONE, ip_province: str | None = None) -> Decision:
        return evaluate.decide(
            policy_evaluator, policy, persona_input(id_number, phone, ip_province)
        )

    return run


def test_demo_approve_is_approved_whatever_the_fresh_phone(decide) -> None:
    rng = random.Random(1)
    for _ in range(50):
        decision = decide(DEMO_APPROVE.id_number, f"136{rng.randrange(10**7):07d}8")
        assert decision.outcome == O.APPROVE, decision.rules_fired
        assert decision.offer is not None and decision.offer.limit >= 1_000_000


def test_demo_review_goes_to_the_grey_zone_queue(decide) -> None:
    rng = random.Random(2)
    for _ in range(50):
        decision = decide(DEMO_REVIEW.id_number, f"136{rng.randrange(10**7):07d}8")
        assert (decision.outcome, decision.review_queue) == (O.REVIEW, "GREY_ZONE")
        assert decision.reasons == [RC.R008_GREY_ZONE] and decision.offer is not None


@pytest.mark.parametrize(
    ("bucket", "outcome", "first_reason", "queue"),
    [
        (80, O.REJECT, RC.R002_CURRENT_OVERDUE, None),
        (84, O.REJECT, RC.R002_CURRENT_OVERDUE, None),
        (85, O.REVIEW, RC.R009_THIN_FILE, "THIN_FILE"),
        (89, O.REVIEW, RC.R009_THIN_FILE, "THIN_FILE"),
        (90, O.REJECT, RC.R004_TOO_MANY_INQUIRIES, None),
        (94, O.REJECT, RC.R004_TOO_MANY_INQUIRIES, None),
        (95, O.REJECT, RC.P008_COURT_DISHONEST_DEBTOR, None),
        (99, O.REJECT, RC.P008_COURT_DISHONEST_DEBTOR, None),
    ],
)
def test_bureau_buckets(
    decide, bucket: int, outcome: O, first_reason: RC, queue: str | None
) -> None:
    decision = decide(id_number_in_bucket(bucket))
    assert (decision.outcome, decision.reasons[0], decision.review_queue) == (
        outcome,
        first_reason,
        queue,
    )
    if bucket >= 90 and bucket <= 94:
        assert RC.R005_MULTI_LENDING in decision.reasons


@pytest.mark.parametrize(
    ("ending", "outcome", "reasons"),
    [
        ("9", O.REJECT, [RC.R010_CARRIER_TENURE]),
        ("7", O.REJECT, [RC.R013_CARRIER_BEHAVIOUR]),
        ("6", O.REJECT, [RC.P006_MULTIPLE_ACCOUNTS]),
        ("5", O.REJECT, [RC.P005_DEVICE_RISK]),
        ("4", O.APPROVE, []),  # registered elsewhere, but the IP's province is not known
    ],
)
def test_phone_endings(decide, ending: str, outcome: O, reasons: list[RC]) -> None:
    decision = decide(DEMO_APPROVE.id_number, "1361234567" + ending)
    assert (decision.outcome, decision.reasons) == (outcome, reasons)


def test_an_ip_in_another_province_than_the_phone_goes_to_fraud_review(decide) -> None:
    decision = decide(DEMO_APPROVE.id_number, "13612345674", ip_province="11")
    assert (decision.outcome, decision.review_queue) == (O.REVIEW, "FRAUD_CHECK")
    assert decision.reasons == [RC.P007_LOCATION_RISK]
    assert decide(DEMO_APPROVE.id_number, ip_province="11").outcome == O.APPROVE


def test_every_sampled_good_and_grey_applicant_keeps_its_path(decide) -> None:
    rng = random.Random(3)

    def someone(low: int, high: int) -> tuple[str, str]:
        born = date(rng.randint(1972, 2003), rng.randint(1, 12), rng.randint(1, 28))
        id_number = make_id_number("110101", born, rng.randint(low, high) * 10 + rng.randrange(10))
        return id_number, f"13{rng.randrange(10**8):08d}{rng.choice('01238')}"

    for _ in range(300):
        decision = decide(*someone(0, 69))
        assert decision.outcome == O.APPROVE, (decision.score, decision.rules_fired)
    for _ in range(150):
        decision = decide(*someone(70, 79))
        assert decision.review_queue == "GREY_ZONE", (decision.score, decision.rules_fired)
