"""Health and readiness of a process, shared by the API and the workers.

`readiness` probes Temporal, the database (when the process has one) and the blob store at
once, each within a short timeout. Workers answer on a tiny HTTP server of their own
(`HealthServer`, `LOANFLOW_WORKER_HEALTH_PORT`): `/healthz` while the process runs, `/readyz`
200 when every dependency answers and the worker polls, else 503 with the failing checks.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, text
from temporalio.api.workflowservice.v1 import GetSystemInfoRequest
from temporalio.client import Client

if TYPE_CHECKING:
    from store.blobs import BlobStore

logger = logging.getLogger(__name__)

READY_TIMEOUT_SECONDS = 2.0


async def _check(name: str, probe: Callable[[], Awaitable[Any]]) -> tuple[str, str | None]:
    try:
        await asyncio.wait_for(probe(), READY_TIMEOUT_SECONDS)
    except Exception as exc:  # noqa: BLE001  (any failure means not ready; the type says why)
        return name, type(exc).__name__ or "error"
    return name, None


def _select_one(engine: Engine) -> None:
    with engine.connect() as conn:
        conn.execute(text("SELECT 1"))


async def readiness(client: Client, engine: Engine | None, blobs: BlobStore) -> dict[str, Any]:
    probes: dict[str, Callable[[], Awaitable[Any]]] = {
        "temporal": lambda: client.workflow_service.get_system_info(GetSystemInfoRequest()),
        "blob_store": lambda: asyncio.to_thread(blobs.ping),
    }
    if engine is not None:
        probes["database"] = lambda: asyncio.to_thread(_select_one, engine)
    results = await asyncio.gather(*(_check(name, probe) for name, probe in probes.items()))
    checks = {name: error or "ok" for name, error in results}
    return {"ready": all(error is None for _, error in results), "checks": checks}


class HealthServer:
    """A minimal HTTP/1.1 server for the orchestrator's probes; nothing else is served."""

    def __init__(self, ready: Callable[[], Awaitable[dict[str, Any]]]) -> None:
        self._ready = ready
        self._server: asyncio.Server | None = None

    async def start(self, host: str, port: int) -> int:
        self._server = await asyncio.start_server(self._serve, host, port)
        bound: int = self._server.sockets[0].getsockname()[1]
        logger.info("health endpoints on %s:%d", host, bound)
        return bound

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            request = await asyncio.wait_for(reader.readline(), 5)
            while (await asyncio.wait_for(reader.readline(), 5)) not in (b"\r\n", b"\n", b""):
                pass
            parts = request.decode("latin-1").split()
            path = parts[1] if len(parts) > 1 else ""
            if path == "/healthz":
                status, body = 200, {"status": "ok"}
            elif path == "/readyz":
                body = await self._ready()
                status = 200 if body["ready"] else 503
            else:
                status, body = 404, {"error": "not_found"}
            data = json.dumps(body).encode()
            reason = {200: "OK", 404: "Not Found", 503: "Service Unavailable"}[status]
            writer.write(
                f"HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(data)}\r\nConnection: close\r\n\r\n".encode()
                + data
            )
            await writer.drain()
        except (TimeoutError, ConnectionError):
            pass
        finally:
            writer.close()
