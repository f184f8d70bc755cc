"""With Temporal unreachable (a restart, an outage) the applicant's status answers quickly from
the store's projection (an accepted offer included), and uploads are still accepted into the blob
store."""

from __future__ import annotations

import dataclasses
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from temporalio.testing import WorkflowEnvironment

from api.application_workflows import ApplicationWorkflows
from config.temporal import data_converter
from devtools.stack import DEV_SERVER_TUNING
from domain.decision import Offer
from domain.enums import ApplicationStatus
from domain.status import ProjectionInput
from store import queries
from tests.api.test_api import png, seed_review, start, upload

OFFER = Offer(
    limit=800_000, min_amount=50_000, terms=[6, 12], annual_rate=0.18, monthly_fee_rate=0.0,
    apr_cap=0.24, grade="C", expires_at=datetime(2026, 12, 8, 9, 30, tzinfo=UTC),
)  # fmt: skip


async def test_status_and_uploads_without_temporal(api, settings) -> None:
    services = api.app.state.services
    in_review, review_auth = await start(api)
    await seed_review(services.engine, in_review)
    collecting, collect_auth = await start(api)
    await seed_review(services.engine, collecting)
    back = ProjectionInput(
        application_id=collecting, seq=8, status=ApplicationStatus.AWAITING_DOCUMENTS,
        event="REVIEW_MORE_INFO", at=datetime.now(UTC),
    )  # fmt: skip
    queries.in_session(services.engine, queries.apply_projection, back)
    signing, signing_auth = await start(api)
    await seed_review(services.engine, signing)
    accepted_offer = ProjectionInput(
        application_id=signing, seq=9, status=ApplicationStatus.AWAITING_SIGNATURE,
        event="AWAITING_SIGNATURE", at=datetime.now(UTC), offer=OFFER,
        accepted_amount=500_000, accepted_term=12,
    )  # fmt: skip
    queries.in_session(services.engine, queries.apply_projection, accepted_offer)

    stopped = await WorkflowEnvironment.start_local(
        dev_server_existing_path=str(Path(sys.executable).parent / "temporal"),
        data_converter=data_converter(settings),
        dev_server_extra_args=["--log-level", "error", *DEV_SERVER_TUNING],
    )
    dead = stopped.client
    await stopped.shutdown()
    api.app.state.services = dataclasses.replace(services, workflows=ApplicationWorkflows(dead))
    try:
        started = time.monotonic()
        response = await api.get(f"/v1/applications/{in_review}", headers=review_auth)
        elapsed = time.monotonic() - started
        assert response.status_code == 200, response.text
        assert (response.json()["status"], response.json()["live"]) == ("MANUAL_REVIEW", False)
        assert elapsed < 2.0, elapsed
        # The offer stays readable from the store once accepted, with what was accepted.
        recorded = (await api.get(f"/v1/applications/{signing}", headers=signing_auth)).json()
        assert (recorded["status"], recorded["live"]) == ("AWAITING_SIGNATURE", False)
        assert Offer.model_validate(recorded["offer"]) == OFFER
        assert (recorded["accepted_amount"], recorded["accepted_term_months"]) == (500_000, 12)
        late = await upload(api, in_review, review_auth, "selfie", png())
        assert (late.status_code, late.json()["status"]) == (409, "MANUAL_REVIEW")
        accepted = await upload(api, collecting, collect_auth, "selfie", png())
        assert accepted.status_code == 202, accepted.text
        refs = queries.in_session(services.engine, queries.document_refs, collecting)
        assert services.blobs.get(refs["selfie"].blob_key) == png()
    finally:
        api.app.state.services = services
