"""Worker for task queue `loan-applications`: both workflows and every I/O activity (vendors,
store, blob store, policy, contracts). CPU-bound identity checks run on the `vision` worker."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import Engine
from temporalio.client import Client
from temporalio.worker import Worker

from activities.bankcard import BankCardActivities
from activities.bureau import BureauActivities
from activities.carrier import CarrierActivities
from activities.contract import ContractActivities
from activities.decisioning import DecisioningActivities
from activities.esign import EsignActivities
from activities.identity import IdentityActivities
from activities.lines import LineActivities
from activities.payout import PayoutActivities
from activities.precredit import PreCreditActivities
from activities.records import RecordsActivities
from activities.repayments import RepaymentActivities
from config.logs import configure_logging
from config.settings import Settings, get_settings
from config.temporal import connect, deployment_config, worker_runtime
from domain.naming import APPLICATION_TASK_QUEUE
from store.blobs import BlobStore, open_blob_store
from store.db import make_engine
from vendors.bankcard import BankCardClient
from vendors.bureau import BureauClient
from vendors.carrier import CarrierClient
from vendors.esign import EsignClient
from vendors.gateway import PaymentGatewayClient
from vendors.identity import IdentityClient
from workers.serve import serve
from workflows.application import LoanApplicationWorkflow
from workflows.credit_line import CreditLineWorkflow
from workflows.draw import DrawWorkflow
from workflows.payout import PayoutWorkflow
from workflows.precredit import PreCreditBatchWorkflow

log = logging.getLogger(__name__)

# Long enough for a vendor call in flight (timeout 10 s) to finish before the process exits.
GRACEFUL_SHUTDOWN = timedelta(seconds=15)


@dataclass
class Deps:
    settings: Settings
    engine: Engine
    blobs: BlobStore

    @classmethod
    def from_settings(cls, settings: Settings) -> Deps:
        engine = make_engine(settings.resolved_database_url)
        return cls(settings, engine, open_blob_store(settings))


def activities(deps: Deps) -> list[Callable[..., Any]]:
    s = deps.settings
    url, timeout = s.mocks_url, s.vendor_timeout_seconds
    bureau = BureauClient(url, timeout=timeout)
    gateway = PaymentGatewayClient(url, timeout=timeout)
    decisioning = DecisioningActivities(deps.engine, bureau, s.resolved_policy_path)
    groups = [
        RecordsActivities(deps.engine),
        decisioning,
        IdentityActivities(IdentityClient(url, timeout=timeout), deps.blobs),
        CarrierActivities(CarrierClient(url, timeout=timeout)),
        BureauActivities(bureau, deps.engine),
        BankCardActivities(BankCardClient(url, timeout=timeout)),
        ContractActivities(deps.blobs, s, lender_name=s.lender_name),
        EsignActivities(EsignClient(url, timeout=timeout), deps.blobs),
        PayoutActivities(gateway, deps.engine, s.api_url),
        LineActivities(deps.engine),
        RepaymentActivities(gateway),
        PreCreditActivities(deps.engine, bureau, decisioning.policies),
    ]
    return [
        getattr(group, name)
        for group in groups
        for name in dir(group)
        if hasattr(getattr(group, name), "__temporal_activity_definition")
    ]


def tuning(settings: Settings) -> dict[str, int]:
    """The worker options set through `LOANFLOW_WORKER_*`; the SDK's defaults for the rest."""
    chosen = {
        "max_concurrent_workflow_tasks": settings.worker_workflow_slots,
        "max_concurrent_activities": settings.worker_activity_slots,
        "max_concurrent_local_activities": settings.worker_local_activity_slots,
        "max_concurrent_workflow_task_polls": settings.worker_pollers,
        "max_concurrent_activity_task_polls": settings.worker_pollers,
        "max_cached_workflows": settings.worker_cached_workflows,
    }
    return {option: value for option, value in chosen.items() if value is not None}


def build_worker(client: Client, deps: Deps, task_queue: str = APPLICATION_TASK_QUEUE) -> Worker:
    return Worker(
        client,
        task_queue=task_queue,
        workflows=[
            LoanApplicationWorkflow,
            PayoutWorkflow,
            CreditLineWorkflow,
            DrawWorkflow,
            PreCreditBatchWorkflow,
        ],
        activities=activities(deps),
        graceful_shutdown_timeout=GRACEFUL_SHUTDOWN,
        deployment_config=deployment_config(deps.settings),
        **tuning(deps.settings),  # type: ignore[arg-type]
    )


async def main() -> None:
    settings = get_settings()
    configure_logging(settings.log_level)
    client = await connect(settings, worker_runtime(settings, "worker"))
    deps = Deps.from_settings(settings)
    await serve(build_worker(client, deps), settings, engine=deps.engine, blobs=deps.blobs)


if __name__ == "__main__":
    asyncio.run(main())
