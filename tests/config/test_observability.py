"""Workers as an operator sees them: JSON log lines carrying the workflow and application ids,
the SDK's Prometheus metrics, and the probe server's liveness and readiness."""

from __future__ import annotations

import dataclasses
import json
import logging
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from temporalio import activity, workflow
from temporalio.client import Client
from temporalio.testing import ActivityEnvironment, WorkflowEnvironment
from temporalio.worker import UnsandboxedWorkflowRunner, Worker

from config.health import HealthServer, readiness
from config.logs import JsonFormatter, application_id_of
from config.settings import Settings
from config.temporal import connect, worker_runtime
from devtools.stack import Ports
from store.blobs import LocalBlobStore
from store.db import make_engine
from workers.serve import worker_readiness

plain_logger = logging.getLogger("tests.observability")


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
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    yield handler.lines
    root.removeHandler(handler)
    root.setLevel(level)


@activity.defn(name="observability_probe")
def probe_activity(note: str) -> str:
    activity.logger.info("sdk logger: %s", note)
    plain_logger.info("module logger: %s, phone 13912345678", note)
    return note


@workflow.defn(name="ObservabilityProbe")
class ProbeWorkflow:
    @workflow.run
    async def run(self, note: str) -> str:
        workflow.logger.info("workflow logger: %s", note)
        return await workflow.execute_activity(
            probe_activity, note, start_to_close_timeout=timedelta(seconds=10)
        )


def test_application_id_is_read_from_both_workflow_id_shapes() -> None:
    assert application_id_of("loan-application-a1b2") == "a1b2"
    assert application_id_of("payout-a1b2") == "a1b2"
    assert application_id_of("something-else") is None


def test_activity_log_lines_carry_the_workflow_and_application_ids(log_lines: list[dict]) -> None:
    env = ActivityEnvironment()
    env.info = dataclasses.replace(
        env.info, workflow_id="loan-application-app-77", activity_type="observability_probe"
    )
    env.run(probe_activity, "checked")
    sdk, plain = log_lines[-2:]
    for line in (sdk, plain):
        assert line["workflow_id"] == "loan-application-app-77"
        assert line["application_id"] == "app-77"
        assert line["activity_type"] == "observability_probe"
    assert "13912345678" not in plain["message"]


async def test_worker_metrics_and_workflow_log_lines(
    local_env: WorkflowEnvironment, settings: Settings, log_lines: list[dict]
) -> None:
    port = Ports.free().api
    metered = settings.model_copy(
        update={
            "worker_metrics_port": port,
            "temporal_address": local_env.client.service_client.config.target_host,
        }
    )
    client: Client = await connect(metered, worker_runtime(metered, "worker"))
    queue = f"obs-{uuid.uuid4().hex}"
    async with Worker(
        client,
        task_queue=queue,
        workflows=[ProbeWorkflow],
        activities=[probe_activity],
        activity_executor=_executor(),
        workflow_runner=UnsandboxedWorkflowRunner(),
    ):
        result = await client.execute_workflow(
            ProbeWorkflow.run, "hello", id="payout-app-88", task_queue=queue
        )
        async with httpx.AsyncClient() as http:
            text = (await http.get(f"http://127.0.0.1:{port}/metrics")).text
    assert result == "hello"
    assert "temporal_activity_execution_latency" in text
    assert 'process="worker"' in text
    assert "temporal_workflow_task_schedule_to_start_latency" in text
    line = next(x for x in log_lines if x["message"].startswith("workflow logger"))
    assert line["workflow_id"] == "payout-app-88" and line["application_id"] == "app-88"


def _executor():  # noqa: ANN202
    from concurrent.futures import ThreadPoolExecutor

    return ThreadPoolExecutor(2)


async def test_probe_server_answers_health_and_readiness(
    local_env: WorkflowEnvironment, tmp_path: Path
) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'ready.db'}")
    dead = make_engine(f"postgresql+psycopg://postgres@127.0.0.1:{Ports.free().api}/none")
    blobs = LocalBlobStore(tmp_path / "blobs")
    state = {"engine": engine}
    worker = Worker(
        local_env.client,
        task_queue=f"probe-{uuid.uuid4().hex}",
        activities=[probe_activity],
        activity_executor=_executor(),
    )
    server = HealthServer(lambda: worker_readiness(worker, state["engine"], blobs))
    port = await server.start("127.0.0.1", 0)
    base = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient(base_url=base) as http:
            assert (await http.get("/healthz")).json() == {"status": "ok"}
            not_polling = await http.get("/readyz")
            assert not_polling.status_code == 503
            assert not_polling.json()["checks"]["polling"] == "stopped"
            async with worker:
                ready = await http.get("/readyz")
                assert ready.status_code == 200, ready.text
                state["engine"] = dead
                down = await http.get("/readyz")
            assert (await http.get("/nothing")).status_code == 404
    finally:
        await server.stop()
        engine.dispose()
        dead.dispose()
    assert down.status_code == 503
    assert down.json()["checks"]["database"] == "OperationalError"


async def test_readiness_without_a_database_checks_temporal_and_blobs(
    local_env: WorkflowEnvironment, tmp_path: Path
) -> None:
    report = await readiness(local_env.client, None, LocalBlobStore(tmp_path))
    assert report == {"ready": True, "checks": {"temporal": "ok", "blob_store": "ok"}}
