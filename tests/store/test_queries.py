"""Store query functions on SQLite, and on PostgreSQL when DATABASE_URL is set.

Every test makes its own application ids, phones, devices and ID numbers, so the PostgreSQL
runs share one database without cleaning up or racing each other.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import Engine

from domain.application import Consents, Device, StartApplicationInput
from domain.enums import (
    ApplicationStatus,
    BlacklistKind,
    DecisionOutcome,
    DocumentKind,
    PayoutStatus,
)
from domain.identity import DocumentRef
from domain.payout import DisbursementRecord
from domain.products import PRODUCTS
from domain.reasons import ReasonCode
from domain.status import ProjectionInput
from store import queries, screening
from store.db import digest, make_engine
from store.migrations import upgrade
from store.queries import in_session
from store.tables import DecisionRecord
from tests.conftest import isolated_database

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def pg_engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    with isolated_database(tmp_path_factory.mktemp("db"), require_postgres=True) as url:
        upgrade(url)
        engine = make_engine(url)
        yield engine
        engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db(request: pytest.FixtureRequest, tmp_path) -> Iterator[Engine]:
    if request.param == "postgres":
        yield request.getfixturevalue("pg_engine")
        return
    url = f"sqlite:///{tmp_path / 'store.db'}"
    upgrade(url)
    engine = make_engine(url)
    yield engine
    engine.dispose()


def new_phone() -> str:
    return "1" + "".join(random.choices("0123456789", k=10))


def new_app(
    *,
    phone: str | None = None,
    device: str | None = None,
    at: datetime = NOW,
) -> StartApplicationInput:
    return StartApplicationInput(
        application_id=f"app_{uuid.uuid4().hex[:24]}",
        client_request_id=uuid.uuid4().hex,
        product=PRODUCTS["CASH_STD"],
        phone=phone or new_phone(),
        requested_amount=300_000,
        requested_term=12,
        device=Device(fingerprint=device or f"dev-{uuid.uuid4().hex}", ip="10.0.0.1", os="iOS 18"),
        consents=Consents(privacy_policy=True, credit_inquiry=True, carrier_data=True),
        submitted_at=at,
    )


def projection(app_id: str, seq: int, status: ApplicationStatus, **fields) -> ProjectionInput:
    return ProjectionInput(
        application_id=app_id,
        seq=seq,
        status=status,
        event=f"to_{status.lower()}",
        at=NOW + timedelta(seconds=seq),
        **fields,
    )


def test_register_is_idempotent_and_keeps_no_clear_phone(db: Engine) -> None:
    inp = new_app()
    assert in_session(db, queries.register_application, inp) is True
    assert in_session(db, queries.register_application, inp) is False
    row = in_session(db, queries.get_application, inp.application_id)
    assert row is not None
    assert row.status == ApplicationStatus.SUBMITTED
    assert row.phone_hash == digest(inp.phone)
    assert row.phone_masked == inp.phone[:3] + "****" + inp.phone[-4:]
    assert inp.phone not in row.model_dump_json()
    assert row.created_at == NOW


def test_projection_is_idempotent_and_only_moves_forward(db: Engine) -> None:
    inp = new_app()
    app_id = inp.application_id
    in_session(db, queries.register_application, inp)
    review = projection(
        app_id,
        2,
        ApplicationStatus.MANUAL_REVIEW,
        decision_outcome=DecisionOutcome.REVIEW,
        risk_grade="C",
        approved_limit=200_000,
        review_queue="GREY_ZONE",
        reasons=[ReasonCode.R008_GREY_ZONE],
        id_number="11010519900307123x",
    )
    first = in_session(db, queries.apply_projection, review)
    retry = in_session(db, queries.apply_projection, review)
    assert (first.audit_added, first.advanced) == (True, True)
    assert (retry.audit_added, retry.advanced) == (False, False)

    # A late retry of an earlier stage is recorded in the trail but does not move the row back.
    late = in_session(
        db,
        queries.apply_projection,
        projection(app_id, 1, ApplicationStatus.AWAITING_DOCUMENTS),
    )
    assert (late.audit_added, late.advanced) == (True, False)

    row = in_session(db, queries.get_application, app_id)
    assert row is not None
    assert (row.status, row.last_seq) == (ApplicationStatus.MANUAL_REVIEW, 2)
    assert (row.decision_outcome, row.risk_grade, row.approved_limit) == ("REVIEW", "C", 200_000)
    assert row.review_queue == "GREY_ZONE" and row.reasons == ["R008"]
    assert row.id_number_hash == digest("11010519900307123X")

    rejected = projection(
        app_id,
        3,
        ApplicationStatus.REJECTED,
        reasons=[ReasonCode.V001_REVIEW_REJECTED],
        reapply_after=date(2026, 6, 1),
    )
    in_session(db, queries.apply_projection, rejected)
    row = in_session(db, queries.get_application, app_id)
    assert row is not None
    assert row.status == ApplicationStatus.REJECTED and row.reasons == ["V001"]
    assert row.approved_limit == 200_000, "fields the event leaves None keep their value"
    assert row.reapply_after == date(2026, 6, 1)
    audit = in_session(db, queries.list_audit, app_id)
    assert [e.seq for e in audit] == [1, 2, 3]
    assert audit[1].data["reasons"] == ["R008"]


def test_documents_upsert_replaces_the_earlier_upload(db: Engine) -> None:
    app_id = new_app().application_id
    for digit in ("a", "b"):
        ref = DocumentRef(
            kind=DocumentKind.SELFIE,
            blob_key=f"documents/{app_id}/selfie/{digit * 64}",
            sha256=digit * 64,
            size=10,
            content_type="image/png",
        )
        in_session(db, queries.upsert_document, app_id, ref)
    in_session(
        db,
        queries.upsert_document,
        app_id,
        DocumentRef(
            kind=DocumentKind.ID_FRONT,
            blob_key="k",
            sha256="c" * 64,
            size=1,
            content_type="image/jpeg",
        ),
    )
    refs = in_session(db, queries.document_refs, app_id)
    assert set(refs) == {DocumentKind.SELFIE, DocumentKind.ID_FRONT}
    assert refs[DocumentKind.SELFIE].sha256 == "b" * 64


def test_velocity_counts_the_window_and_excludes_the_application_itself(db: Engine) -> None:
    phone, device = new_phone(), f"dev-{uuid.uuid4().hex}"
    inside = [new_app(phone=phone, device=device, at=NOW - timedelta(hours=h)) for h in (1, 5, 23)]
    outside = new_app(phone=phone, device=device, at=NOW - timedelta(hours=25))
    later = new_app(phone=phone, device=device, at=NOW + timedelta(minutes=1))
    other = new_app(at=NOW)
    for inp in [*inside, outside, later, other]:
        in_session(db, queries.register_application, inp)
    since = NOW - timedelta(hours=24)
    me = inside[0].application_id
    assert in_session(db, screening.count_recent_by_device, device, since, NOW, me) == 2
    assert in_session(db, screening.count_recent_by_phone, phone, since, NOW, me) == 2
    assert in_session(db, screening.count_recent_by_phone, phone, since, NOW, "app_none") == 3


def test_cool_down_finds_only_rejections_still_in_force(db: Engine) -> None:
    phone = new_phone()
    id_number = "11010519900307" + "".join(random.choices("0123456789", k=4))
    older, newer, expired = (new_app(phone=phone) for _ in range(3))
    for inp, until in (
        (older, date(2026, 3, 10)),
        (newer, date(2026, 5, 1)),
        (expired, date(2026, 3, 1)),
    ):
        in_session(db, queries.register_application, inp)
        in_session(
            db,
            queries.apply_projection,
            projection(
                inp.application_id,
                1,
                ApplicationStatus.REJECTED,
                reapply_after=until,
                id_number=id_number,
            ),
        )
    today = NOW.date()
    found = in_session(db, screening.active_cool_down, on=today, exclude_id="x", phone=phone)
    assert found == date(2026, 5, 1)
    by_id = in_session(
        db, screening.active_cool_down, on=today, exclude_id="x", id_number=id_number
    )
    assert by_id == date(2026, 5, 1)
    assert (
        in_session(db, screening.active_cool_down, on=date(2026, 5, 1), exclude_id="x", phone=phone)
        is None
    )
    assert (
        in_session(db, screening.active_cool_down, on=today, exclude_id="x", phone=new_phone())
        is None
    )


def test_blacklist_add_and_check_by_digest(db: Engine) -> None:
    phone, device = new_phone(), f"dev-{uuid.uuid4().hex}"
    id_number = "44030119850101" + "".join(random.choices("0123456789", k=3)) + "x"
    assert in_session(db, screening.add_to_blacklist, BlacklistKind.PHONE, phone, "fraud")
    assert not in_session(db, screening.add_to_blacklist, BlacklistKind.PHONE, phone, "again")
    in_session(db, screening.add_to_blacklist, BlacklistKind.ID_NUMBER, id_number.upper())
    hits = in_session(
        db,
        screening.blacklist_hits,
        {
            BlacklistKind.PHONE: phone,
            BlacklistKind.DEVICE: device,
            BlacklistKind.ID_NUMBER: id_number,
        },
    )
    assert hits == {BlacklistKind.PHONE, BlacklistKind.ID_NUMBER}
    # A phone value listed under another kind is not a device hit.
    assert in_session(db, screening.blacklist_hits, {BlacklistKind.DEVICE: phone}) == set()


def test_decision_record_is_kept_once_per_input(db: Engine) -> None:
    inp = new_app()
    in_session(db, queries.register_application, inp)

    def record(snapshot: dict) -> DecisionRecord:
        return DecisionRecord(
            application_id=inp.application_id,
            stage="DECISIONING",
            outcome="APPROVE",
            policy_version="v1",
            policy_hash="h" * 64,
            input_snapshot=snapshot,
        )

    assert in_session(db, queries.record_decision, record({"amount": 1, "x": [1.5]}))
    assert not in_session(db, queries.record_decision, record({"amount": 1, "x": [1.5]}))
    assert in_session(db, queries.record_decision, record({"amount": 2, "x": [1.5]}))
    keyed = record({"execution": "wf/run/1", "bureau": {"score": 600}})
    assert in_session(db, queries.record_decision, keyed, match_keys=("execution",))
    again = record({"execution": "wf/run/1", "bureau": {"score": 640}})
    assert not in_session(db, queries.record_decision, again, match_keys=("execution",))
    assert len(in_session(db, queries.list_decisions, inp.application_id)) == 3


def test_review_queue_and_evidence_bundle(db: Engine) -> None:
    first, second, offered = new_app(), new_app(), new_app()
    for inp in (first, second, offered):
        in_session(db, queries.register_application, inp)
    # `second` entered review earlier than `first`, so it comes first.
    in_session(
        db,
        queries.apply_projection,
        projection(
            first.application_id, 5, ApplicationStatus.MANUAL_REVIEW, review_queue="GREY_ZONE"
        ),
    )
    in_session(
        db,
        queries.apply_projection,
        projection(
            second.application_id, 3, ApplicationStatus.MANUAL_REVIEW, review_queue="GREY_ZONE"
        ),
    )
    in_session(
        db,
        queries.apply_projection,
        projection(offered.application_id, 4, ApplicationStatus.OFFERED),
    )
    listed = [a.id for a in in_session(db, queries.list_reviews, "GREY_ZONE", 10_000)]
    assert listed.index(second.application_id) < listed.index(first.application_id)
    assert offered.application_id not in listed

    app_id = offered.application_id

    def payout(status: PayoutStatus) -> str | None:
        in_session(
            db,
            queries.record_disbursement,
            DisbursementRecord(
                application_id=app_id,
                idempotency_key=f"payout-{app_id}",
                order_id="o1",
                amount=300_000,
                channel="UNIONPAY",
                card_last4="1234",
                status=status,
            ),
        )
        row = in_session(db, queries.get_disbursement, app_id)
        return row.status if row else None

    assert payout(PayoutStatus.PENDING) == "PENDING"
    assert payout(PayoutStatus.SUCCEEDED) == "SUCCEEDED"
    assert payout(PayoutStatus.PENDING) == "SUCCEEDED", "a late write cannot hide a success"
    assert payout(PayoutStatus.FAILED) == "SUCCEEDED"
    bundle = in_session(db, queries.evidence_bundle, app_id)
    assert bundle is not None
    assert bundle.application.status == ApplicationStatus.OFFERED
    assert bundle.disbursement is not None and bundle.disbursement.status == "SUCCEEDED"
    assert payout(PayoutStatus.RETURNED) == "RETURNED"
    assert [e.event for e in bundle.audit] == ["to_offered"]
    by_key = in_session(db, queries.get_disbursement_by_key, f"payout-{app_id}")
    assert by_key is not None and by_key.application_id == app_id
    assert in_session(db, queries.evidence_bundle, "app_missing") is None


# ---------------------------------------------------------------- credit lines


def test_a_new_lines_first_events_recorded_at_once_both_land(db: Engine) -> None:
    """The opening and a first draw of a line recorded concurrently: one creates the line's row,
    the other finds it (before, the second failed on the key and was only retried later)."""
    from concurrent.futures import ThreadPoolExecutor

    from domain.line_messages import LineEventInput
    from domain.lines import LineStatus
    from store import lines

    for _ in range(5):
        line_id = f"L{uuid.uuid4().hex[:16]}"

        def event(seq: int, name: str, line_id: str = line_id) -> LineEventInput:
            return LineEventInput(
                line_id=line_id, seq=seq, event=name, status=LineStatus.ACTIVE, limit=1_000_000,
                available=1_000_000 - 100_000 * (seq - 1), outstanding_principal=0,
                overdue_days=0, customer_id="c-1", product_code="CASH_LINE",
                expires_at=NOW + timedelta(days=365), at=NOW,
            )  # fmt: skip

        with ThreadPoolExecutor(2) as pool:
            added = list(pool.map(
                lambda e: in_session(db, lines.record_line_event, e),
                [event(1, "LINE_OPENED"), event(2, "DRAW_REQUESTED")],
            ))  # fmt: skip
        assert added == [True, True]
        recorded = in_session(db, lines.list_line_events, line_id)
        assert [e.event for e in recorded] == ["LINE_OPENED", "DRAW_REQUESTED"]
        row = in_session(db, lines.get_line, line_id)
        assert row is not None and row.last_seq == 2 and row.available == 900_000
