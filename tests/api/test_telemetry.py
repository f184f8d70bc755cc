"""What an operator sees of the API: request ids, JSON log lines without personal data,
Prometheus metrics per route template, liveness and readiness (false when the database is down)."""

from __future__ import annotations

import dataclasses
import json
import logging
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI, Response
from prometheus_client import CollectorRegistry
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import Engine
from temporalio.testing import WorkflowEnvironment

from api.main import create_app
from api.telemetry import ApiMetrics, RequestTelemetry
from config.logs import JsonFormatter
from config.settings import Settings
from devtools.stack import Ports
from domain.enums import ApplicationStatus
from store.db import make_engine, session_scope
from store.tables import Application


@pytest.fixture(scope="module")
def api_settings(tmp_path_factory: pytest.TempPathFactory, database_url: str) -> Settings:
    return Settings(
        environment="test", data_dir=tmp_path_factory.mktemp("data"), database_url=database_url
    )


@pytest.fixture(scope="module")
async def api(
    api_settings: Settings, local_env: WorkflowEnvironment
) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(api_settings, temporal_client=local_env.client)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://api") as client:
            client.app = app  # type: ignore[attr-defined]
            yield client


class Captured(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.setFormatter(JsonFormatter())
        self.lines: list[dict] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(json.loads(self.format(record)))


@pytest.fixture
def log_lines() -> Iterator[list[dict]]:
    handler = Captured()
    root = logging.getLogger()
    root.addHandler(handler)
    level = root.level
    root.setLevel(logging.INFO)
    yield handler.lines
    root.removeHandler(handler)
    root.setLevel(level)


def samples(text: str, name: str) -> dict[tuple, float]:
    found: dict[tuple, float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name:
                found[tuple(sorted(sample.labels.items()))] = sample.value
    return found


async def test_the_request_id_is_echoed_or_made_and_logged(
    api: httpx.AsyncClient, log_lines: list[dict]
) -> None:
    given = await api.get("/v1/applications/app-x", headers={"X-Request-ID": "req-123"})
    assert given.headers["x-request-id"] == "req-123"
    made = await api.get("/healthz")
    assert len(made.headers["x-request-id"]) == 32
    hostile = await api.get("/healthz", headers={"X-Request-ID": "bad\tid" + "x" * 200})
    assert hostile.headers["x-request-id"] != "bad\tid" + "x" * 200

    line = next(x for x in log_lines if x.get("request_id") == "req-123")
    assert line["route"] == "/v1/applications/{application_id}"
    assert line["application_id"] == "app-x"
    assert line["status"] == 401 and line["level"] == "INFO"


async def test_metrics_count_requests_per_route_template_and_read_the_store(
    api: httpx.AsyncClient,
) -> None:
    for app_id in ("app-a", "app-b"):
        await api.get(f"/v1/applications/{app_id}")
    engine: Engine = api.app.state.services.engine  # type: ignore[attr-defined]
    with session_scope(engine) as session:
        for queue in ("GREY_ZONE", "GREY_ZONE", "GREY_ZONE_ESCALATED"):
            session.add(review_row(queue))

    response = await api.get("/metrics")
    assert response.status_code == 200
    requests = samples(response.text, "loanflow_http_requests_total")
    key = (("method", "GET"), ("route", "/v1/applications/{application_id}"), ("status", "401"))
    assert requests[key] >= 2
    assert not any("app-a" in str(labels) for labels in requests)
    latency = samples(response.text, "loanflow_http_request_duration_seconds_count")
    assert latency[(("method", "GET"), ("route", "/v1/applications/{application_id}"))] >= 2
    waiting = samples(response.text, "loanflow_reviews_waiting")
    assert waiting[(("queue", "GREY_ZONE"),)] == 2
    assert waiting[(("queue", "GREY_ZONE_ESCALATED"),)] == 1
    assert samples(response.text, "loanflow_store_up") == {(): 1.0}


def review_row(queue: str) -> Application:
    return Application(
        id=uuid.uuid4().hex,
        client_request_id=uuid.uuid4().hex,
        product_code="STD",
        phone_hash="0" * 64,
        phone_masked="138****0000",
        device_fingerprint="fp",
        ip="127.0.0.1",
        requested_amount=100000,
        requested_term=12,
        status=ApplicationStatus.MANUAL_REVIEW.value,
        review_queue=queue,
    )


async def test_applications_started_counts_new_starts_only() -> None:
    app = FastAPI()

    @app.post("/v1/applications", status_code=201)
    async def start(response: Response, again: bool = False) -> dict[str, str]:
        if again:
            response.status_code = 200
        return {}

    metrics = ApiMetrics(CollectorRegistry())
    app.add_middleware(RequestTelemetry, metrics=metrics)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://api"
    ) as client:
        assert (await client.post("/v1/applications")).status_code == 201
        assert (await client.post("/v1/applications?again=true")).status_code == 200
    assert metrics.registry.get_sample_value("loanflow_applications_started_total") == 1


async def test_readiness_turns_false_when_the_database_is_down(api: httpx.AsyncClient) -> None:
    assert (await api.get("/healthz")).json() == {"status": "ok"}
    ready = await api.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["checks"] == {"temporal": "ok", "blob_store": "ok", "database": "ok"}

    app = api.app  # type: ignore[attr-defined]
    services = app.state.services
    dead = make_engine(f"postgresql+psycopg://postgres@127.0.0.1:{Ports.free().api}/none")
    app.state.services = dataclasses.replace(services, engine=dead)
    try:
        down = await api.get("/readyz")
        metrics = await api.get("/metrics")
    finally:
        app.state.services = services
        dead.dispose()
    assert down.status_code == 503
    assert down.json()["ready"] is False
    assert down.json()["checks"]["database"] == "OperationalError"
    assert down.json()["checks"]["temporal"] == "ok"
    assert (await api.get("/healthz")).status_code == 200  # alive, just not ready
    assert metrics.status_code == 200
    assert samples(metrics.text, "loanflow_store_up") == {(): 0.0}


def test_json_log_lines_mask_personal_data(log_lines: list[dict], tmp_path: Path) -> None:
    logging.getLogger("loanflow.test").warning(
        "card 6222021234567890123 phone 13800138000 id 11010119900307731X digest %s",
        "a" * 64,
    )
    line = log_lines[-1]
    for secret in ("6222021234567890123", "13800138000", "11010119900307731X"):
        assert secret not in json.dumps(line)
    assert "a" * 64 in line["message"]
