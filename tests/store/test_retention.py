"""The retention job deletes identity documents of ended applications after their period and
anonymises the row; open applications, recent ends and signed contracts are kept."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine

from config.settings import Settings
from domain.enums import ApplicationStatus, DocumentKind
from domain.models import Consents, Device, DocumentRef, ProjectionInput, StartApplicationInput
from domain.products import PRODUCTS
from store import queries
from store.blob_crypto import EncryptedBlobStore
from store.blobs import LocalBlobStore
from workers.retention import run

NOW = datetime.now(UTC)


def application(engine: Engine, blobs, status: ApplicationStatus, ended_days_ago: int) -> str:
    app_id = f"app_{uuid.uuid4().hex[:24]}"
    at = NOW - timedelta(days=ended_days_ago)
    start = StartApplicationInput(
        application_id=app_id, client_request_id="crid-1", product=PRODUCTS["CASH_STD"],
        phone="13800138000", requested_amount=300_000, requested_term=12,
        device=Device(fingerprint="fp-0123456789", ip="10.0.0.8", os="iOS 18"),
        consents=Consents(privacy_policy=True, credit_inquiry=True, carrier_data=True),
        submitted_at=at,
    )  # fmt: skip
    queries.in_session(engine, queries.register_application, start)
    move = ProjectionInput(application_id=app_id, seq=5, status=status, event=status.value, at=at)
    queries.in_session(engine, queries.apply_projection, move)
    for kind in (DocumentKind.ID_FRONT, DocumentKind.SELFIE, DocumentKind.CONTRACT):
        data = f"{kind} of 张三 {app_id}".encode()
        key, digest = blobs.put(f"documents/{app_id}/{kind.value}", data)
        ref = DocumentRef(kind=kind, blob_key=key, sha256=digest, size=len(data),
                          content_type="image/jpeg")  # fmt: skip
        queries.in_session(engine, queries.upsert_document, app_id, ref)
    return app_id


def test_retention_purges_only_what_is_due(tmp_path, engine: Engine, database_url: str) -> None:
    settings = Settings(environment="test", data_dir=tmp_path, database_url=database_url,
                        retention_days_ended=30, retention_days_disbursed=1825)  # fmt: skip
    blobs = EncryptedBlobStore(
        LocalBlobStore(settings.resolved_blob_dir), settings.blob_keys, settings.blob_key_id
    )
    old_reject = application(engine, blobs, ApplicationStatus.REJECTED, 31)
    recent_reject = application(engine, blobs, ApplicationStatus.CANCELLED, 5)
    old_loan = application(engine, blobs, ApplicationStatus.DISBURSED, 400)
    in_review = application(engine, blobs, ApplicationStatus.MANUAL_REVIEW, 60)

    due = run(settings, now=NOW, dry_run=True)
    assert old_reject in due.applications and due.blobs_deleted == 0
    report = run(settings, now=NOW)
    assert old_reject in report.applications and report.blobs_deleted == 2
    for kept in (recent_reject, old_loan, in_review):
        assert kept not in report.applications
        kinds = set(queries.in_session(engine, queries.document_refs, kept))
        assert kinds == {DocumentKind.ID_FRONT, DocumentKind.SELFIE, DocumentKind.CONTRACT}

    refs = queries.in_session(engine, queries.document_refs, old_reject)
    assert set(refs) == {DocumentKind.CONTRACT}
    assert blobs.get(refs[DocumentKind.CONTRACT].blob_key).startswith(b"contract")
    row = queries.in_session(engine, queries.get_application, old_reject)
    assert row is not None and row.phone_masked == "[purged]" and row.ip == ""
    assert row.status == "REJECTED"
    audit = queries.in_session(engine, queries.list_audit, old_reject)
    assert audit[-1].event == "RETENTION_PURGED"
    files = [p for p in settings.resolved_blob_dir.rglob("*") if p.is_file()]
    assert len(files) == 4 * 3 - 2
    again = run(settings, now=NOW)
    assert old_reject not in again.applications
