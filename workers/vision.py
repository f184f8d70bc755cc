"""The vision worker: task queue `vision`, CPU-bound ID card, liveness and face-match activities in
a thread pool, scaled separately from the main worker.

    python -m workers.vision

dlib's HOG detector releases the GIL, so detection runs in parallel across the pool's threads;
the face encoder does not (see `vision.faces`), which caps the speed-up of a pool of threads
below the core count. The pool and the concurrent-activity limit are both sized to
`LOANFLOW_VISION_POOL_SIZE`, or the number of cores: more activities than threads would only
queue inside the process while another worker could have taken them.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import threading
from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta

from temporalio.client import Client
from temporalio.worker import Worker

from activities.vision import VisionActivities
from config.settings import Settings, get_settings
from config.temporal import connect
from domain.naming import VISION_TASK_QUEUE
from store.blobs import BlobStore, LocalBlobStore
from vision.faces import FaceEngine

logger = logging.getLogger(__name__)

# Long enough for a liveness check in flight to finish; after it, activities are cancelled and
# Temporal retries them on another worker.
GRACEFUL_SHUTDOWN = timedelta(seconds=30)


@dataclass
class VisionWorkerDeps:
    blobs: BlobStore
    settings: Settings
    engine: FaceEngine | None = None
    executor: Executor | None = None


def pool_size(settings: Settings) -> int:
    return settings.vision_pool_size or os.cpu_count() or 1


def build_worker(client: Client, deps: VisionWorkerDeps) -> Worker:
    size = pool_size(deps.settings)
    executor = deps.executor or ThreadPoolExecutor(max_workers=size, thread_name_prefix="vision")
    activities = VisionActivities(deps.blobs, deps.settings, deps.engine)
    return Worker(
        client,
        task_queue=VISION_TASK_QUEUE,
        activities=[
            activities.inspect_id_card,
            activities.check_liveness,
            activities.match_faces,
        ],
        activity_executor=executor,
        max_concurrent_activities=size,
        graceful_shutdown_timeout=GRACEFUL_SHUTDOWN,
    )


def warm_threads(executor: Executor, engine: FaceEngine, threads: int) -> None:
    """Run every model once in each pool thread: the barrier holds each task until all have
    started, which forces the pool to create all its threads and each to build its detector."""
    barrier = threading.Barrier(threads)

    def warm() -> None:
        barrier.wait(timeout=60)
        engine.warm()

    for future in [executor.submit(warm) for _ in range(threads)]:
        future.result()


async def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    settings = get_settings()
    size = pool_size(settings)
    with ThreadPoolExecutor(max_workers=size, thread_name_prefix="vision") as executor:
        engine = await asyncio.to_thread(FaceEngine.shared)
        await asyncio.to_thread(warm_threads, executor, engine, size)
        logger.info("vision models loaded; %d threads warmed", size)
        client = await connect(settings)
        deps = VisionWorkerDeps(
            blobs=LocalBlobStore(settings.resolved_blob_dir),
            settings=settings,
            engine=engine,
            executor=executor,
        )
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        async with build_worker(client, deps):
            logger.info("vision worker polling task queue %r", VISION_TASK_QUEUE)
            await stop.wait()
            logger.info("shutting down: finishing activities in flight")
    logger.info("vision worker stopped")


if __name__ == "__main__":
    asyncio.run(main())
