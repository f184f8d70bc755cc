"""A bounded property-based run of the whole OpenAPI (schemathesis, in-process ASGI): every
operation gets generated requests, signed in where the route needs it (an applicant's token on
its own application, an admin's session on ops, an engineer's on the codec), and no answer may be
a 5xx. The case count is printed and kept in BENCHMARKS.md."""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import dataclass, field

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.python import asgi
from temporalio.client import Client

from api.main import create_app
from api.ops_users import DEV_PASSWORD
from tests.api.test_api import make_settings, start_body

pytestmark = pytest.mark.slow

MAX_EXAMPLES = 12


@dataclass
class Run:
    cases: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    server_errors: list[str] = field(default_factory=list)


def fuzz(app, auth: dict[str, dict[str, str]], app_id: str) -> Run:
    run = Run()
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    for result in schema.get_all_operations():
        operation = result.ok()

        @given(case=operation.as_strategy())
        @settings(
            max_examples=MAX_EXAMPLES,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def check(case) -> None:
            path = case.operation.path
            if "application_id" in (case.path_parameters or {}) and path.startswith(
                "/v1/applications"
            ):
                case.path_parameters["application_id"] = app_id
            if path.startswith("/v1/applications/{"):
                headers = auth["applicant"]
            elif path.startswith("/codec"):
                headers = auth["engineer"]
            else:
                headers = auth["admin"]
            response = case.call(headers=headers)
            run.cases += 1
            run.statuses[response.status_code] += 1
            if response.status_code >= 500:
                run.server_errors.append(f"{case.method} {path}: {response.status_code}")

        check()
    return run


async def test_no_generated_request_gets_a_5xx(tmp_path, temporal: Client, database_url) -> None:
    target = temporal.service_client.config.target_host
    app = create_app(make_settings(tmp_path, database_url, temporal_address=target))
    # The run drives the app from schemathesis's own event-loop thread (its lifespan connects a
    # client of its own); this loop keeps the stand-in worker of the fixture polling meanwhile.
    run = await asyncio.to_thread(_run, app)
    print(f"schemathesis: {run.cases} cases, statuses {dict(sorted(run.statuses.items()))}")
    assert run.cases >= 100
    assert run.server_errors == [], sorted(set(run.server_errors))


def _run(app) -> Run:
    with asgi.get_client(app) as client:
        admin = _token(client, "admin")
        engineer = _token(client, "engineer")
        started = client.post(f"{client.base_url}/v1/applications", json=start_body()).json()
        auth = {
            "admin": admin,
            "engineer": engineer,
            "applicant": {"Authorization": f"Bearer {started['applicant_token']}"},
        }
        return fuzz(app, auth, started["application_id"])


def _token(client, username: str) -> dict[str, str]:
    response = client.post(
        f"{client.base_url}/v1/ops/sessions",
        json={"username": username, "password": DEV_PASSWORD},
    )
    client.cookies.clear()
    return {"Authorization": f"Bearer {response.json()['access_token']}"}
