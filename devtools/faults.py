"""Fault injection for the chaos bench: a TCP proxy in front of a server (the database) that can
be cut — every open connection reset and every new one refused — and restored, so the processes
see the database go away and come back without the database (shared with others) being stopped.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
import threading
import time


class TcpProxy:
    """Listens on 127.0.0.1:`port` (0: a free one) and forwards to `target`."""

    def __init__(self, target: tuple[str, int], port: int = 0) -> None:
        self.target = target
        self.port = port
        self.cuts = 0
        self._cut = False
        self._writers: set[asyncio.StreamWriter] = set()
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="tcp-proxy", daemon=True)

    def start(self) -> TcpProxy:
        self._thread.start()
        self._ready.wait(10)
        return self

    def _serve(self) -> None:
        asyncio.set_event_loop(self._loop)
        server = self._loop.run_until_complete(
            asyncio.start_server(self._accept, "127.0.0.1", self.port)
        )
        self.port = server.sockets[0].getsockname()[1]
        self._ready.set()
        self._loop.run_forever()
        server.close()
        for w in list(self._writers):
            w.close()
        tasks = asyncio.all_tasks(self._loop)
        for task in tasks:
            task.cancel()
        self._loop.run_until_complete(asyncio.gather(*tasks, return_exceptions=True))
        self._loop.run_until_complete(server.wait_closed())
        self._loop.close()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self._cut:
            _reset(writer)
            return
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            _reset(writer)
            return
        self._writers |= {writer, up_writer}
        try:
            await asyncio.gather(_pipe(reader, up_writer), _pipe(up_reader, writer))
        finally:
            self._writers -= {writer, up_writer}
            for w in (writer, up_writer):
                w.close()

    def cut(self) -> None:
        """The server is gone: reset what is open, refuse what comes."""
        self.cuts += 1

        def _do() -> None:
            self._cut = True
            for w in list(self._writers):
                _reset(w)

        self._loop.call_soon_threadsafe(_do)

    def restore(self) -> None:
        self._loop.call_soon_threadsafe(lambda: setattr(self, "_cut", False))

    def stop(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(OSError, asyncio.CancelledError):
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    with contextlib.suppress(OSError):
        writer.close()


def _reset(writer: asyncio.StreamWriter) -> None:
    """Close with RST (linger 0), as a crashed server's host answers."""
    sock = writer.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.close()


class HttpFaults:
    """A reverse proxy in front of the simulators that makes every vendor worse on demand: a
    share of requests answered 503 without reaching the vendor, a share forwarded but their
    answer lost (503 after the vendor acted: only idempotency keeps a retry safe), and added
    latency. The simulators' admin API (`/admin/`) passes untouched."""

    def __init__(self, target_url: str, port: int = 0, seed: int = 0) -> None:
        import random

        self.target_url = target_url.rstrip("/")
        self.port = port or _free_port()
        self.error_rate = 0.0
        self.lost_answer_rate = 0.0
        self.latency_s = 0.0
        self.counts = {
            "refused": 0,
            "answer lost": 0,
            "delayed": 0,
            "forwarded": 0,
            "caller gone": 0,
        }
        self._rng = random.Random(seed)
        self._thread = threading.Thread(target=self._serve, name="http-faults", daemon=True)
        self._server: object = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def set(self, error_rate: float = 0.0, lost_answer_rate: float = 0.0,
            latency_s: float = 0.0) -> None:  # fmt: skip
        self.error_rate, self.lost_answer_rate, self.latency_s = (
            error_rate, lost_answer_rate, latency_s)  # fmt: skip

    def start(self) -> HttpFaults:
        self._thread.start()
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", self.port)) == 0:
                    return self
            time.sleep(0.05)
        raise TimeoutError("the fault proxy did not start")

    def _serve(self) -> None:
        import httpx
        import uvicorn
        from starlette.requests import ClientDisconnect, Request
        from starlette.responses import Response

        client = httpx.AsyncClient(base_url=self.target_url, timeout=60)

        async def app(scope: dict, receive: object, send: object) -> None:  # type: ignore[type-arg]
            if scope["type"] != "http":
                return
            request = Request(scope, receive)  # type: ignore[arg-type]
            path = scope["path"]
            chaos = not path.startswith("/admin/")
            draw = self._rng.random()
            if chaos and self.latency_s:
                self.counts["delayed"] += 1
                await asyncio.sleep(self._rng.uniform(0, 2 * self.latency_s))
            if chaos and draw < self.error_rate:
                self.counts["refused"] += 1
                response = Response(b'{"error":"UNAVAILABLE"}', 503, media_type="application/json")
            else:
                try:
                    body = await request.body()
                except ClientDisconnect:
                    # the caller gave up while its call was held back: nobody to answer
                    self.counts["caller gone"] += 1
                    return
                upstream = await client.request(
                    request.method, path, params=request.query_params,
                    headers=[(k, v) for k, v in request.headers.items() if k != "host"],
                    content=body,
                )  # fmt: skip
                if chaos and draw < self.error_rate + self.lost_answer_rate:
                    self.counts["answer lost"] += 1
                    response = Response(b'{"error":"BAD_GATEWAY"}', 502,
                                        media_type="application/json")  # fmt: skip
                else:
                    self.counts["forwarded"] += chaos
                    headers = {k: v for k, v in upstream.headers.items()
                               if k not in ("content-length", "transfer-encoding",
                                            "content-encoding", "connection")}  # fmt: skip
                    response = Response(upstream.content, upstream.status_code, headers=headers)
            await response(scope, receive, send)  # type: ignore[arg-type]

        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning",
                                lifespan="off")  # fmt: skip
        server = uvicorn.Server(config)
        self._server = server

        async def serve() -> None:
            try:
                await server.serve()
            finally:
                await client.aclose()

        asyncio.run(serve())

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True  # type: ignore[attr-defined]
        self._thread.join(10)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
