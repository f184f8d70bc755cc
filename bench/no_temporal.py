"""A loan application without a workflow engine, the harness: the activities of both workers in
one process, for `bench/baseline.py` to measure the workflow against.

The activity classes are built as the workers build them (`workers.main.activities`,
`workers.vision`'s process pool) and called as plain functions: the I/O ones awaited on this
loop, the vision ones in the pool, each in the activity context its logs and heartbeats read.
The gateway's payout callbacks come to a small receiver in this process that checks the
signature as the API does and wakes the waiting payout. The stages themselves are in
`bench/no_temporal_application.py`.
"""

from __future__ import annotations

import asyncio
import dataclasses
import socket
import time
from collections.abc import AsyncIterator, Callable, Iterator
from concurrent.futures import Executor
from contextlib import asynccontextmanager, contextmanager
from typing import Any, TypeVar

import uvicorn
from pydantic import BaseModel
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from temporalio.testing import ActivityEnvironment

from activities.payout import CALLBACK_PATH
from activities.vision import VisionActivities
from api.errors import BadSignature
from api.security import require_signature
from config.settings import Settings
from domain.naming import application_workflow_id
from domain.payout import (
    PaymentNotification,
)
from vendors.base import VendorClient
from workers.main import Deps, activities
from workers.vision import VisionWorkerDeps
from workflows.calls import ActivityCall

I = TypeVar("I", bound=BaseModel)  # noqa: E741
R = TypeVar("R")


def registered(groups: list[Any]) -> dict[str, Callable[..., Any]]:
    """Activity name → bound method, as a Temporal worker would dispatch them."""
    found: dict[str, Callable[..., Any]] = {}
    for fn in groups:
        found[getattr(fn, "__temporal_activity_definition").name] = fn
    return found


def run_sync_activity(fn: Callable[[Any], R], arg: Any) -> R:
    """In a vision pool process: the activity with the context its heartbeats and logs need."""
    return ActivityEnvironment().run(fn, arg)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class CallbackReceiver:
    """The gateway's payout callbacks, signature checked as the API checks it, handed to the
    payout waiting for them."""

    def __init__(self, secret: str) -> None:
        self._secret = secret
        self._waiting: dict[str, asyncio.Queue[PaymentNotification]] = {}
        app = Starlette(routes=[Route(CALLBACK_PATH, self._receive, methods=["POST"])])
        self.port = free_port()
        config = uvicorn.Config(
            app, host="127.0.0.1", port=self.port, log_level="warning", lifespan="off", ws="none"
        )
        self._server = uvicorn.Server(config)
        self._task: asyncio.Task[None] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        self._task = asyncio.create_task(self._server.serve())
        while not self._server.started:
            if self._task.done():
                self._task.result()
                raise RuntimeError(f"the callback receiver did not start on {self.port}")
            await asyncio.sleep(0.02)

    async def stop(self) -> None:
        self._server.should_exit = True
        if self._task is not None:
            await self._task

    @contextmanager
    def expect(self, key: str) -> Iterator[asyncio.Queue[PaymentNotification]]:
        queue: asyncio.Queue[PaymentNotification] = asyncio.Queue()
        self._waiting[key] = queue
        try:
            yield queue
        finally:
            self._waiting.pop(key, None)

    async def _receive(self, request: Request) -> JSONResponse:
        body = await request.body()
        h = request.headers
        try:
            require_signature(
                self._secret, body, h.get("x-signature"), h.get("x-timestamp"),
                h.get("x-nonce"), time.time(),
            )  # fmt: skip
        except BadSignature:
            return JSONResponse({"status": "refused"}, status_code=401)
        notification = PaymentNotification.model_validate_json(body)
        queue = self._waiting.get(notification.idempotency_key)
        if queue is None:
            return JSONResponse({"status": "ignored"})
        queue.put_nowait(notification)
        return JSONResponse({"status": "accepted"})


class InProcess:
    """The activities of both workers in this process, and the applications run through them."""

    def __init__(
        self, settings: Settings, vision: VisionWorkerDeps, receiver: CallbackReceiver
    ) -> None:
        deps = Deps.from_settings(settings)
        self.engine, self.blobs = deps.engine, deps.blobs
        self._io = registered(activities(deps))
        checks = VisionActivities(
            vision.blobs, vision.settings, vision.faces, vision.ocr, vision.spoof,
            cache=vision.cache,
        )  # fmt: skip
        self._vision = registered(
            [checks.inspect_id_card, checks.check_liveness, checks.match_faces, checks.encode_faces]
        )
        assert vision.executor is not None
        self._executor: Executor = vision.executor
        self.receiver = receiver

    @classmethod
    @asynccontextmanager
    async def open(cls, settings: Settings, vision: VisionWorkerDeps) -> AsyncIterator[InProcess]:
        """`settings.api_url` is replaced by the receiver's, where the gateway calls back."""
        receiver = CallbackReceiver(settings.payment_callback_secret)
        await receiver.start()
        system = cls(settings.model_copy(update={"api_url": receiver.url}), vision, receiver)
        try:
            yield system
        finally:
            await system.aclose()
            await receiver.stop()

    async def aclose(self) -> None:
        """The vendor clients the activity groups were built with, and the engine."""
        owners = (getattr(fn, "__self__", None) for fn in self._io.values())
        groups = {id(owner): owner for owner in owners if owner is not None}
        clients = {
            id(value): value
            for group in groups.values()
            for value in vars(group).values()
            if isinstance(value, VendorClient)
        }
        for client in clients.values():
            await client.aclose()
        self.engine.dispose()

    async def call(self, call: ActivityCall[I, R], arg: I, app_id: str) -> R:
        """One activity, called directly: I/O ones on this loop, vision ones in the pool."""
        if call.opts.vision:
            loop = asyncio.get_running_loop()
            fn = self._vision[call.name]
            result: R = await loop.run_in_executor(self._executor, run_sync_activity, fn, arg)
            return result
        env = ActivityEnvironment()
        env.info = dataclasses.replace(
            env.info, activity_type=call.name, workflow_id=application_workflow_id(app_id)
        )
        done: R = await env.run(self._io[call.name], arg)
        return done
