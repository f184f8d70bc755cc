"""Running a worker process until SIGTERM: its probes and its graceful stop, shared by both
workers. Readiness adds the worker's own state (polling) to the dependencies' checks."""

from __future__ import annotations

import asyncio
import logging
import signal
from typing import Any

from sqlalchemy import Engine
from temporalio.worker import Worker

from config.health import HealthServer, readiness
from config.settings import Settings
from store.blobs import BlobStore

logger = logging.getLogger(__name__)


async def worker_readiness(
    worker: Worker, engine: Engine | None, blobs: BlobStore
) -> dict[str, Any]:
    report = await readiness(worker.client, engine, blobs)
    report["checks"]["polling"] = "ok" if worker.is_running else "stopped"
    report["ready"] = report["ready"] and worker.is_running
    return report


async def serve(
    worker: Worker, settings: Settings, *, engine: Engine | None, blobs: BlobStore
) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    health = HealthServer(lambda: worker_readiness(worker, engine, blobs))
    if settings.worker_health_port:
        await health.start(settings.listen_host, settings.worker_health_port)
    try:
        async with worker:
            logger.info("worker polling task queue %s", worker.task_queue)
            await stop.wait()
            logger.info("shutting down: finishing tasks in flight")
    finally:
        await health.stop()
    logger.info("worker stopped")
