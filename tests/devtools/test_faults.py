"""The chaos bench's fault tools on local servers: the TCP proxy forwards, cuts (open connections
reset, new ones refused) and restores; the HTTP fault proxy refuses, loses answers after the
vendor acted, and leaves the admin API alone; session CPU is read from /proc."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator

import httpx
import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from devtools.faults import HttpFaults, TcpProxy, _free_port
from devtools.procstat import session_cpu_seconds


@pytest.fixture
def echo_port() -> Iterator[int]:
    server = socket.create_server(("127.0.0.1", 0))
    port = server.getsockname()[1]

    def serve() -> None:
        while True:
            try:
                conn, _ = server.accept()
            except OSError:
                return
            threading.Thread(target=lambda c=conn: _echo(c), daemon=True).start()

    threading.Thread(target=serve, daemon=True).start()
    yield port
    server.close()


def _echo(conn: socket.socket) -> None:
    with conn, contextlib.suppress(OSError):  # the proxy resets its side when cut
        while data := conn.recv(1024):
            conn.sendall(data)


def _roundtrip(port: int) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(b"ping")
        return sock.recv(1024)


def test_the_tcp_proxy_cuts_and_restores(echo_port: int) -> None:
    proxy = TcpProxy(("127.0.0.1", echo_port)).start()
    try:
        assert _roundtrip(proxy.port) == b"ping"
        held = socket.create_connection(("127.0.0.1", proxy.port), timeout=5)
        held.sendall(b"a")
        assert held.recv(10) == b"a"
        proxy.cut()
        time.sleep(0.2)
        with pytest.raises(OSError):
            held.sendall(b"b")
            if not held.recv(10):
                raise ConnectionResetError
        with pytest.raises(OSError):
            if not _roundtrip(proxy.port):
                raise ConnectionResetError
        proxy.restore()
        time.sleep(0.1)
        assert _roundtrip(proxy.port) == b"ping"
        assert proxy.cuts == 1
        held.close()
    finally:
        proxy.stop()


@pytest.fixture
def vendor() -> Iterator[tuple[str, list[str]]]:
    seen: list[str] = []

    async def record(request: Request) -> JSONResponse:
        seen.append(request.url.path)
        return JSONResponse({"path": request.url.path})

    app = Starlette(routes=[Route("/{path:path}", record, methods=["GET", "POST"])])
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, port=port, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}", seen
    server.should_exit = True
    thread.join(5)


def test_the_http_fault_proxy(vendor: tuple[str, list[str]]) -> None:
    url, seen = vendor
    faults = HttpFaults(url).start()
    try:
        assert httpx.post(f"{faults.url}/gateway/v1/payouts").json() == {
            "path": "/gateway/v1/payouts"
        }
        faults.set(error_rate=1.0)
        assert httpx.post(f"{faults.url}/bureau/v1/reports").status_code == 503
        assert seen == ["/gateway/v1/payouts"]  # refused before the vendor
        faults.set(lost_answer_rate=1.0)
        assert httpx.post(f"{faults.url}/gateway/v1/payouts").status_code == 502
        assert seen[-1] == "/gateway/v1/payouts"  # the vendor acted; the answer was lost
        assert httpx.get(f"{faults.url}/admin/v1/payouts").status_code == 200
        assert faults.counts["refused"] == 1 and faults.counts["answer lost"] == 1
    finally:
        faults.stop()


def test_session_cpu_counts_the_children() -> None:
    burn = "import time\nt = time.process_time()\nwhile time.process_time() - t < 0.3: pass"
    script = f"import subprocess, sys; subprocess.run([sys.executable, '-c', {burn!r}])"
    proc = subprocess.Popen([sys.executable, "-c", script + "; input()"],
                            stdin=subprocess.PIPE, start_new_session=True)  # fmt: skip
    try:
        time.sleep(0.2)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            cpu = session_cpu_seconds({proc.pid})[proc.pid]
            if cpu >= 0.3:
                break
            time.sleep(0.1)
        assert cpu >= 0.3
        assert session_cpu_seconds({os.getpid()}) == {os.getpid(): pytest.approx(0, abs=1e9)}
    finally:
        proc.kill()
        proc.wait()
        assert proc.stdin is not None
        proc.stdin.close()
