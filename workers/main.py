"""Worker for task queue `loan-applications`: both workflows and every I/O activity (vendors,
store, blob store, policy, contracts). CPU-bound identity checks run on the `vision` worker."""

from __future__ import annotations

import asyncio
import logging
import signal
from dataclasses import dataclass

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
from activities.payout import PayoutActivities
from activities.records import RecordsActivities
from config.settings import Settings, get_settings
from config.temporal import connect
from domain.naming import APPLICATION_TASK_QUEUE
from store.blob_crypto import EncryptedBlobStore
from store.blobs import BlobStore, LocalBlobStore
from store.db import create_tables, make_engine
from vendors.bankcard import BankCardClient
from vendors.bureau import BureauClient
from vendors.carrier import CarrierClient
from vendors.esign import EsignClient
from vendors.gateway import PaymentGatewayClient
from vendors.identity import IdentityClient
from workflows.application import LoanApplicationWorkflow
from workflows.payout import PayoutWorkflow

log = logging.getLogger(__name__)


@dataclass
class Deps:
    settings: Settings
    engine: Engine
    blobs: BlobStore

    @classmethod
    def from_settings(cls, settings: Settings) -> Deps:
        engine = make_engine(settings.resolved_database_url)
        create_tables(engine)
        blobs = EncryptedBlobStore(
            LocalBlobStore(settings.resolved_blob_dir), settings.blob_keys, settings.blob_key_id
        )
        return cls(settings, engine, blobs)


def activities(deps: Deps) -> list[object]:
    s = deps.settings
    url, timeout = s.mocks_url, s.vendor_timeout_seconds
    bureau = BureauClient(url, timeout=timeout)
    groups = [
        RecordsActivities(deps.engine),
        DecisioningActivities(deps.engine, bureau, s.resolved_policy_path),
        IdentityActivities(IdentityClient(url, timeout=timeout), deps.blobs),
        CarrierActivities(CarrierClient(url, timeout=timeout)),
        BureauActivities(bureau),
        BankCardActivities(BankCardClient(url, timeout=timeout)),
        ContractActivities(deps.blobs, s, lender_name=s.lender_name),
        EsignActivities(EsignClient(url, timeout=timeout), deps.blobs),
        PayoutActivities(PaymentGatewayClient(url, timeout=timeout), deps.engine, s.api_url),
    ]
    return [
        getattr(group, name)
        for group in groups
        for name in dir(group)
        if hasattr(getattr(group, name), "__temporal_activity_definition")
    ]


def build_worker(client: Client, deps: Deps, task_queue: str = APPLICATION_TASK_QUEUE) -> Worker:
    return Worker(
        client,
        task_queue=task_queue,
        workflows=[LoanApplicationWorkflow, PayoutWorkflow],
        activities=activities(deps),
    )


async def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    settings = get_settings()
    client = await connect(settings)
    worker = build_worker(client, Deps.from_settings(settings))
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with worker:
        log.info("worker ready on task queue %s", APPLICATION_TASK_QUEUE)
        await stop.wait()
    log.info("worker stopped")


if __name__ == "__main__":
    asyncio.run(main())
