"""With Temporal unreachable (a restart, an outage) the applicant's status answers quickly from
the store's projection, and uploads are still accepted into the blob store."""

from __future__ import annotations

import dataclasses
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from temporalio.testing import WorkflowEnvironment

from api.gateway import ApplicationGateway
from config.temporal import data_converter
from domain.enums import ApplicationStatus
from domain.models import ProjectionInput
from store import queries
from tests.api.test_api import png, seed_review, start, upload


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

    stopped = await WorkflowEnvironment.start_local(
        dev_server_existing_path=str(Path(sys.executable).parent / "temporal"),
        data_converter=data_converter(settings),
        dev_server_extra_args=["--log-level", "error"],
    )
    dead = stopped.client
    await stopped.shutdown()
    api.app.state.services = dataclasses.replace(services, gateway=ApplicationGateway(dead))
    try:
        started = time.monotonic()
        response = await api.get(f"/v1/applications/{in_review}", headers=review_auth)
        elapsed = time.monotonic() - started
        assert response.status_code == 200, response.text
        assert (response.json()["status"], response.json()["live"]) == ("MANUAL_REVIEW", False)
        assert elapsed < 2.0, elapsed
        late = await upload(api, in_review, review_auth, "selfie", png())
        assert (late.status_code, late.json()["status"]) == (409, "MANUAL_REVIEW")
        accepted = await upload(api, collecting, collect_auth, "selfie", png())
        assert accepted.status_code == 202, accepted.text
        refs = queries.in_session(services.engine, queries.document_refs, collecting)
        assert services.blobs.get(refs["selfie"].blob_key) == png()
    finally:
        api.app.state.services = services
