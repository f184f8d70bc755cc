"""The vision worker: task queue `vision`, CPU-bound ID card, liveness and face-match activities in
a pool of worker processes, scaled separately from the main worker.

    python -m workers.vision

A pool of processes, not threads: dlib's face encoder and landmark predictor hold the GIL (the
encoder for ~75 ms a call), so two liveness checks in two threads of one process take as long
as one after the other (measured: 1.06x), while in two processes they take half. Each process
loads the models once when it starts (dlib detector, landmarks and encoder; RapidOCR's three
ONNX models; the two anti-spoofing models) and runs one activity at a time; the pool and the
concurrent-activity limit are both sized to `LOANFLOW_VISION_POOL_SIZE`, or the CPUs the process
may use (its container's CPU quota, not the host's cores), and each ONNX call gets
`cpus // pool` threads. Face encodings that one activity leaves for the
next (best video frame, card portrait) go through a dict shared by the pool's processes, and
heartbeats and cancellation cross the process boundary through Temporal's shared state manager.
`build_worker` also takes a thread pool (`VisionWorkerDeps.executor`), as the tests do.
"""

from __future__ import annotations

import asyncio
import logging
import math
import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Iterator, MutableMapping
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from temporalio.client import Client
from temporalio.worker import SharedStateManager, Worker

from activities.vision import VisionActivities
from config.logs import configure_logging
from config.settings import Settings, get_settings
from config.temporal import connect, deployment_config, worker_runtime
from domain.naming import VISION_TASK_QUEUE
from store.blobs import BlobStore, open_blob_store
from vision.antispoof import SpoofDetector
from vision.faces import FaceModels
from vision.ocr import OcrReader
from workers.serve import serve

logger = logging.getLogger(__name__)

# Long enough for a liveness check in flight to finish; after it, activities are cancelled and
# Temporal retries them on another worker.
GRACEFUL_SHUTDOWN = timedelta(seconds=30)


@dataclass
class VisionWorkerDeps:
    blobs: BlobStore
    settings: Settings
    faces: FaceModels | None = None
    ocr: OcrReader | None = None
    spoof: SpoofDetector | None = None
    executor: Executor | None = None
    shared_state: SharedStateManager | None = None
    cache: MutableMapping[str, bytes] | None = None


def available_cpus(cgroup_cpu_max: Path = Path("/sys/fs/cgroup/cpu.max")) -> int:
    """CPUs this process may use: its affinity, capped by a cgroup v2 CPU quota (a container's
    `cpus:` limit), which the host's core count does not show."""
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    try:
        quota, period = cgroup_cpu_max.read_text().split()[:2]
        if quota != "max":
            cpus = min(cpus or 1, max(1, math.ceil(int(quota) / int(period))))
    except (OSError, ValueError):
        pass
    return cpus or 1


def pool_size(settings: Settings) -> int:
    return settings.vision_pool_size or available_cpus()


def onnx_threads(settings: Settings) -> int:
    return max(1, available_cpus() // pool_size(settings))


def build_worker(client: Client, deps: VisionWorkerDeps) -> Worker:
    size = pool_size(deps.settings)
    executor = deps.executor or ThreadPoolExecutor(max_workers=size, thread_name_prefix="vision")
    activities = VisionActivities(
        deps.blobs, deps.settings, deps.faces, deps.ocr, deps.spoof, cache=deps.cache
    )
    return Worker(
        client,
        task_queue=VISION_TASK_QUEUE,
        activities=[
            activities.inspect_id_card,
            activities.check_liveness,
            activities.match_faces,
            activities.encode_faces,
        ],
        activity_executor=executor,
        shared_state_manager=deps.shared_state,
        max_concurrent_activities=size,
        graceful_shutdown_timeout=GRACEFUL_SHUTDOWN,
        deployment_config=deployment_config(deps.settings),
    )


def load_models(onnx_threads: int, log_level: int = logging.INFO) -> None:
    """Run in each pool process as it starts: logging, then every model loaded and run once."""
    # Ctrl-C reaches the whole process group: the parent shuts the pool down in order
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    configure_logging(log_level)
    FaceModels.shared().warm()
    OcrReader.shared(onnx_threads).warm()
    SpoofDetector.shared().warm()


def _started() -> int:
    # long enough that the pool cannot serve every warm-up call from its first process
    time.sleep(0.5)
    return os.getpid()


@contextmanager
def process_pool(settings: Settings) -> Iterator[VisionWorkerDeps]:
    """The worker's process pool, its shared state and cache, every process started and its
    models loaded: deps for build_worker (blobs from the settings)."""
    size = pool_size(settings)
    # spawn, not fork: the parent runs Temporal's core threads and an event loop
    context = multiprocessing.get_context("spawn")
    with (
        context.Manager() as manager,
        ProcessPoolExecutor(
            max_workers=size,
            mp_context=context,
            initializer=load_models,
            initargs=(onnx_threads(settings), logging.getLogger().level or logging.INFO),
        ) as executor,
    ):
        pids = {future.result() for future in [executor.submit(_started) for _ in range(size)]}
        logger.info("vision pool: %d processes started, models loaded", len(pids))
        yield VisionWorkerDeps(
            blobs=open_blob_store(settings),
            settings=settings,
            executor=executor,
            shared_state=SharedStateManager.create_from_multiprocessing(manager),
            cache=manager.dict(),
        )


def warm_threads(
    executor: Executor, faces: FaceModels, threads: int, *others: OcrReader | SpoofDetector
) -> None:
    """Run every model once in each pool thread: the barrier holds each task until all have
    started, which forces the pool to create all its threads and each to build its detector."""
    barrier = threading.Barrier(threads)

    def warm() -> None:
        barrier.wait(timeout=60)
        faces.warm()
        for model in others:
            model.warm()

    for future in [executor.submit(warm) for _ in range(threads)]:
        future.result()


async def main() -> None:
    settings = get_settings()
    configure_logging(settings.log_level)
    with process_pool(settings) as deps:
        client = await connect(settings, worker_runtime(settings, "vision-worker"))
        await serve(build_worker(client, deps), settings, engine=None, blobs=deps.blobs)


if __name__ == "__main__":
    asyncio.run(main())
