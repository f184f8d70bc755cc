"""Vision stage cost per step, and applications verified per minute by the vision worker.

    .venv/bin/python -m bench.vision_throughput [--apps 12] [--pools 1,2]

Per-stage time: each vision activity alone, one at a time, in this process (ActivityEnvironment):
OCR per card side, liveness per second of video, face match, with wall and CPU seconds.

Throughput: a Temporal dev server (from the installed binary) and the real vision worker
(`python -m workers.vision`: a pool of the given number of processes, models loaded once in
each) in its own process tree. A driver workflow per application calls the three activities
the way the application workflow does (card and liveness in parallel, then the face match);
`--apps` applications are started at once and the wall time to finish them all is measured,
with the CPU seconds of the worker's whole process tree (from /proc). The CPU-bound limit is
cores / (worker CPU seconds per application): what the machine could do if the worker never
waited and never contended.

Documents per application: a generated card photographed at a random angle (both sides), the
approve persona's selfie, the reference portrait, and a liveness video synthesised for a random
challenge (synthesis is done beforehand and is not part of the cost).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import date, timedelta
from pathlib import Path

import numpy as np
from pydantic import BaseModel
from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.testing import ActivityEnvironment, WorkflowEnvironment
from temporalio.worker import Worker

from bench.report import update_section
from config.settings import Settings
from config.temporal import data_converter
from devtools.stack import DEV_SERVER_TUNING
from domain.enums import DocumentKind, LivenessAction
from domain.identity import (
    ActionWindow,
    DocumentRef,
    FaceMatchInput,
    FaceMatchResult,
    IdCardInput,
    IdCardResult,
    LivenessChallenge,
    LivenessInput,
    LivenessResult,
)
from domain.naming import VISION_TASK_QUEUE, ActivityName
from store.blobs import LocalBlobStore
from synthetic.id_cards import card_back, card_front, portrait, random_holder
from synthetic.photo_scenes import photograph, random_distortion

ROOT = Path(__file__).resolve().parent.parent
FACES, SAMPLES = ROOT / "assets" / "faces", ROOT / "samples"
BIN = Path(sys.executable).parent
TODAY = date(2026, 11, 23)
NOTES = """The CPU-bound limit is cores ÷ worker CPU seconds per application: what the machine could
verify if the worker never waited and never contended. Before the pool was made of processes, a
pool of two threads reached 25.6 apps/min on the same 12 applications, 62% of its limit: dlib's
face encoder and landmark predictor hold the GIL, and two liveness checks in two threads took
1.06x the time of one. The machine is shared with other engineers' test runs, so wall times
carry noise of tens of percent."""


class Documents(BaseModel):
    card: IdCardInput
    liveness: LivenessInput
    match: FaceMatchInput


class Verified(BaseModel):
    card: IdCardResult
    liveness: LivenessResult
    match: FaceMatchResult


@workflow.defn(sandboxed=False)
class VerifyIdentity:
    """Stage 3's vision calls, as `LoanApplicationWorkflow._verify_identity`
    (workflows/application.py) makes them."""

    @workflow.run
    async def run(self, docs: Documents) -> Verified:
        options = {
            "task_queue": VISION_TASK_QUEUE,
            "start_to_close_timeout": timedelta(minutes=5),
            "heartbeat_timeout": timedelta(minutes=1),
            "retry_policy": RetryPolicy(maximum_attempts=1),
        }
        card, live = await asyncio.gather(
            workflow.execute_activity(
                ActivityName.INSPECT_ID_CARD, docs.card, result_type=IdCardResult, **options
            ),
            workflow.execute_activity(
                ActivityName.CHECK_LIVENESS, docs.liveness, result_type=LivenessResult, **options
            ),
        )
        match = await workflow.execute_activity(
            ActivityName.MATCH_FACES, docs.match, result_type=FaceMatchResult, **options
        )
        return Verified(card=card, liveness=live, match=match)


def documents(n: int, blobs: LocalBlobStore, rng) -> Documents:
    from synthetic.challenge_video import synthesize_challenge_video

    def ref(kind: DocumentKind, data: bytes) -> DocumentRef:
        key, digest = blobs.put(f"app-{n}/{kind}", data)
        return DocumentRef(kind=kind, blob_key=key, sha256=digest, size=len(data), content_type="x")

    holder = random_holder(rng, TODAY)
    face = portrait("examples_obama.jpg")
    front = ref(
        DocumentKind.ID_FRONT, photograph(card_front(holder, face, n), random_distortion(rng))
    )
    back = ref(DocumentKind.ID_BACK, photograph(card_back(holder, n), random_distortion(rng)))
    actions = rng.permutation(list(LivenessAction))[:3]
    windows = [
        ActionWindow(action=a, start_s=2.5 * i, end_s=2.5 * (i + 1)) for i, a in enumerate(actions)
    ]
    video = synthesize_challenge_video(
        (FACES / "examples_obama-480p.jpg").read_bytes(), windows, seed=n
    )
    video_ref = ref(DocumentKind.LIVENESS_VIDEO, video)
    app = f"app-{n}"
    return Documents(
        card=IdCardInput(
            application_id=app,
            front=front,
            back=back,
            application_date=TODAY,
            claimed_name=holder.name,
            claimed_id_number=holder.id_number,
        ),
        liveness=LivenessInput(
            application_id=app,
            video=video_ref,
            challenge=LivenessChallenge(nonce=str(n), windows=windows),
        ),
        match=FaceMatchInput(
            application_id=app,
            selfie=ref(DocumentKind.SELFIE, (SAMPLES / "approve" / "selfie.jpg").read_bytes()),
            id_front=front,
            reference_portrait=ref(
                DocumentKind.REFERENCE_PORTRAIT, (FACES / "examples_obama2.jpg").read_bytes()
            ),
            video=video_ref,
            threshold=0.6,
        ),
    )


def _stat(pid: int) -> list[str]:
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def _descendants(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                children.setdefault(int(_stat(int(entry.name))[1]), []).append(int(entry.name))
            except (FileNotFoundError, ProcessLookupError):
                continue
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo += children.get(current, [])
    return found


def _role(pid: int, root: int) -> str:
    """ "worker" (the Temporal worker's own process), "pool" (a process of the vision pool: it
    holds the models, hundreds of MB) or "other" (the multiprocessing manager holding the shared
    cache, the resource tracker)."""
    if pid == root:
        return "worker"
    pages = int(Path(f"/proc/{pid}/statm").read_text().split()[1])
    return "pool" if pages * os.sysconf("SC_PAGE_SIZE") > 200 * 2**20 else "other"


def cpu_by_role(pid: int) -> dict[str, float]:
    """User + system CPU seconds of the process and all its descendants alive now (the worker,
    its pool processes and the multiprocessing manager), from /proc, summed by `_role`."""
    totals = {"worker": 0.0, "pool": 0.0, "other": 0.0}
    for current in _descendants(pid):
        try:
            fields = _stat(current)
            role = _role(current, pid)
        except (FileNotFoundError, ProcessLookupError):
            continue
        totals[role] += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return totals


def stage_costs(docs: Documents, blob_dir: Path) -> dict[str, tuple[float, float]]:
    """(wall, cpu) seconds of each activity alone, models warm, caches cold, OCR on as many
    threads as a pool process of the default worker uses."""
    from activities.vision import VisionActivities
    from vision.ocr import OcrReader
    from workers.vision import onnx_threads

    settings = Settings(blob_dir=blob_dir)
    OcrReader.shared(onnx_threads(settings))
    warm = VisionActivities(LocalBlobStore(blob_dir), settings)
    env = ActivityEnvironment()
    env.run(warm.inspect_id_card, docs.card)
    env.run(warm.check_liveness, docs.liveness)
    costs = {}
    for name, call, arg in (
        ("card (2 sides)", "inspect_id_card", docs.card),
        ("liveness", "check_liveness", docs.liveness),
        ("face match", "match_faces", docs.match),
    ):
        fresh = VisionActivities(LocalBlobStore(blob_dir), settings)
        wall, cpu = time.perf_counter(), time.process_time()
        env.run(getattr(fresh, call), arg)
        costs[name] = (time.perf_counter() - wall, time.process_time() - cpu)
    return costs


async def throughput(
    apps: list[Documents], pool: int, blob_dir: Path
) -> tuple[float, dict[str, float], int]:
    """(wall seconds, worker CPU seconds by `_role`, applications passed) for all `apps` at
    once."""
    settings = Settings(blob_dir=blob_dir)
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=str(BIN / "temporal"),
        data_converter=data_converter(settings),
        dev_server_extra_args=["--log-level", "error", *DEV_SERVER_TUNING],
    )
    address = env.client.service_client.config.target_host
    worker_env = {
        **os.environ,
        "LOANFLOW_TEMPORAL_ADDRESS": address,
        "LOANFLOW_BLOB_DIR": str(blob_dir),
        "LOANFLOW_VISION_POOL_SIZE": str(pool),
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "workers.vision"],
        cwd=ROOT,
        env=worker_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert process.stdout is not None
        for line in process.stdout:
            if "polling task queue" in line:
                break
        queue = f"bench-{uuid.uuid4()}"
        async with Worker(env.client, task_queue=queue, workflows=[VerifyIdentity]):
            cpu, wall = cpu_by_role(process.pid), time.perf_counter()
            results = await asyncio.gather(
                *[
                    env.client.execute_workflow(
                        VerifyIdentity.run,
                        docs,
                        id=f"verify-{uuid.uuid4()}",
                        task_queue=queue,
                        result_type=Verified,
                    )
                    for docs in apps
                ]
            )
            wall = time.perf_counter() - wall
            after = cpu_by_role(process.pid)
            cpu = {role: after[role] - cpu[role] for role in after}
        passed = sum(r.card.passed and r.liveness.passed and r.match.passed for r in results)
        for r in results:
            if not (r.card.passed and r.liveness.passed and r.match.passed):
                print(
                    "not passed:",
                    r.card.reasons,
                    r.card.detail[:120],
                    "|",
                    r.liveness.reasons,
                    r.liveness.detail[:200],
                    "|",
                    r.match.reasons,
                    r.match.detail[:120],
                )
        return wall, cpu, passed
    finally:
        process.terminate()
        process.wait(timeout=60)
        await env.shutdown()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--apps", type=int, default=12)
    parser.add_argument("--pools", default="1,2")
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    import dlib

    blas = bool(dlib.DLIB_USE_BLAS)
    build = (
        "dlib built with OpenBLAS (`scripts/build_dlib.sh`)"
        if blas
        else "the locked `dlib-bin` (no BLAS)"
    )
    cores = os.cpu_count() or 1
    rng = np.random.default_rng(7)
    with tempfile.TemporaryDirectory(prefix="vision-bench-") as tmp:
        blob_dir = Path(tmp)
        blobs = LocalBlobStore(blob_dir)
        apps = [documents(n, blobs, rng) for n in range(args.apps)]
        costs = stage_costs(apps[0], blob_dir)
        video_seconds = apps[0].liveness.challenge.windows[-1].end_s + 0.5
        runs = {
            pool: asyncio.run(throughput(apps, pool, blob_dir))
            for pool in map(int, args.pools.split(","))
        }
    lines = ["| stage | wall s | CPU s |", "|---|---|---|"]
    lines += [f"| {name} | {wall:.2f} | {cpu:.2f} |" for name, (wall, cpu) in costs.items()]
    card_wall, card_cpu = costs["card (2 sides)"]
    live_wall, live_cpu = costs["liveness"]
    rows = [
        "| pool | wall s | apps/min | worker CPU s/app | … in the pool | … in the worker "
        "process | … manager | CPU-bound limit | of limit | passed |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for pool, (wall, cpu, passed) in runs.items():
        rate, per_app = args.apps / wall * 60, sum(cpu.values()) / args.apps
        limit = cores / per_app * 60
        rows.append(
            f"| {pool} process{'es' if pool > 1 else ''} | {wall:.1f} | {rate:.1f} | {per_app:.2f} "
            f"| {cpu['pool'] / args.apps:.2f} | {cpu['worker'] / args.apps:.2f} "
            f"| {cpu['other'] / args.apps:.2f} | {limit:.1f} apps/min | {rate / limit:.0%} "
            f"| {passed}/{args.apps} |"
        )
    ocr = f"{card_wall / 2:.2f} s per card side ({card_cpu / 2:.2f} CPU s)"
    live = (
        f"{live_wall / video_seconds:.3f} s ({live_cpu / video_seconds:.3f} CPU s) per second of "
        f"video ({video_seconds:g} s clip, 480x640, 15 fps)"
    )
    body = f"""Face models: {build}. Per stage, one activity at a time in one process, models warm,
caches cold:

{chr(10).join(lines)}

OCR: {ocr}. Liveness: {live}. The face match decodes the selfie and the reference portrait, finds
the card's portrait again and finds the video's best frame again (the worker reuses the last two
when the card and liveness checks ran on it, as they usually do).

{args.apps} applications started at once against the vision worker process
(`python -m workers.vision`) on {cores} cores:

{chr(10).join(rows)}

{NOTES}
"""
    print(body)
    if not args.no_write:
        # one section per dlib build, so both stay side by side
        update_section(
            "vision-throughput-blas" if blas else "vision-throughput",
            "Vision: stage cost and throughput" + (", dlib with OpenBLAS" if blas else ""),
            body,
            "python -m bench.vision_throughput" + (" (after make dlib-blas)" if blas else ""),
        )


if __name__ == "__main__":
    main()
