"""The vision worker as it runs in production (workers.vision: a pool of processes, models loaded
once in each) on the time-skipping server: bad uploads come back as results with reasons, and
the same worker goes on to read good cards afterwards, two at once in its two processes."""

from __future__ import annotations

import asyncio
import json
import struct
import uuid
import zlib
from datetime import date, timedelta

import pytest
from pydantic import BaseModel
from temporalio import workflow
from temporalio.client import Client
from temporalio.common import RetryPolicy
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from config.settings import Settings
from domain.enums import DocumentKind
from domain.identity import (
    ActionWindow,
    DocumentRef,
    IdCardInput,
    IdCardResult,
    LivenessChallenge,
    LivenessInput,
    LivenessResult,
)
from domain.naming import VISION_TASK_QUEUE, ActivityName
from domain.reasons import ReasonCode
from store.blobs import LocalBlobStore
from tests.vision.support import SAMPLES, face_bytes
from workers.vision import build_worker, process_pool

TODAY = date(2026, 11, 23)


class ProbeInput(BaseModel):
    cards: list[IdCardInput]
    videos: list[LivenessInput]


class ProbeResult(BaseModel):
    cards: list[IdCardResult]
    videos: list[LivenessResult]


@workflow.defn(sandboxed=False)
class VisionProbe:
    """Calls the vision activities the way the application workflow does, all at once."""

    @workflow.run
    async def run(self, inp: ProbeInput) -> ProbeResult:
        options = {
            "task_queue": VISION_TASK_QUEUE,
            "start_to_close_timeout": timedelta(minutes=2),
            "retry_policy": RetryPolicy(maximum_attempts=1),
        }
        cards = [
            workflow.execute_activity(
                ActivityName.INSPECT_ID_CARD, c, result_type=IdCardResult, **options
            )
            for c in inp.cards
        ]
        videos = [
            workflow.execute_activity(
                ActivityName.CHECK_LIVENESS, v, result_type=LivenessResult, **options
            )
            for v in inp.videos
        ]
        done = await asyncio.gather(*cards, *videos)
        return ProbeResult(cards=done[: len(cards)], videos=done[len(cards) :])


def png_bomb(side: int) -> bytes:
    def chunk(tag: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data))

    ihdr = struct.pack(">IIBBBBB", side, side, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(bytes(4096)))


async def probe(env: WorkflowEnvironment, inp: ProbeInput) -> ProbeResult:
    client: Client = env.client
    queue = f"probe-{uuid.uuid4()}"
    async with Worker(client, task_queue=queue, workflows=[VisionProbe]):
        return await client.execute_workflow(
            VisionProbe.run,
            inp,
            id=f"probe-{uuid.uuid4()}",
            task_queue=queue,
            result_type=ProbeResult,
        )


@pytest.mark.slow
async def test_bad_uploads_are_results_and_the_worker_carries_on(
    time_env: WorkflowEnvironment, settings: Settings
) -> None:
    blobs = LocalBlobStore(settings.resolved_blob_dir)

    def ref(kind: DocumentKind, data: bytes) -> DocumentRef:
        key, digest = blobs.put(f"app/{kind}", data)
        return DocumentRef(
            kind=kind,
            blob_key=key,
            sha256=digest,
            size=len(data),
            content_type="application/octet-stream",
        )

    def card(front: bytes, back: bytes) -> IdCardInput:
        return IdCardInput(
            application_id="app",
            front=ref(DocumentKind.ID_FRONT, front),
            back=ref(DocumentKind.ID_BACK, back),
            application_date=TODAY,
        )

    good_front = (SAMPLES / "approve" / "id_front.jpg").read_bytes()
    good_back = (SAMPLES / "approve" / "id_back.jpg").read_bytes()
    challenge = LivenessChallenge(
        nonce="n", windows=[ActionWindow(action="BLINK", start_s=0, end_s=2.5)]
    )
    video = lambda data: LivenessInput(  # noqa: E731
        application_id="app", video=ref(DocumentKind.LIVENESS_VIDEO, data), challenge=challenge
    )
    bad = ProbeInput(
        cards=[
            card(b"not an image", good_back),
            card(face_bytes("examples_obama.jpg")[:20_000], good_back),
            card(png_bomb(20_000), good_back),
        ],
        videos=[video(b""), video(face_bytes("examples_short_hamilton_clip.mp4")[:4000])],
    )
    recorded = json.loads((SAMPLES / "manifest.json").read_text())["approve"]["liveness_challenge"]
    sample_video = LivenessInput(
        application_id="app",
        video=ref(DocumentKind.LIVENESS_VIDEO, (SAMPLES / "approve" / "liveness.mp4").read_bytes()),
        challenge=LivenessChallenge(nonce="m", windows=[ActionWindow(**w) for w in recorded]),
    )
    two = settings.model_copy(update={"vision_pool_size": 2})
    with process_pool(two) as deps:
        async with build_worker(time_env.client, deps):
            refused = await probe(time_env, bad)
            # then two applications' documents at once, in the two processes
            good = await probe(
                time_env, ProbeInput(cards=[card(good_front, good_back)] * 2, videos=[sample_video])
            )
    assert [c.reasons for c in refused.cards] == [[ReasonCode.I006_IMAGE_UNREADABLE]] * 3
    assert all(
        not v.passed and v.reasons == [ReasonCode.I006_IMAGE_UNREADABLE] for v in refused.videos
    )
    assert [c.passed for c in good.cards] == [True, True], [c.detail for c in good.cards]
    assert good.videos[0].passed, good.videos[0].detail
