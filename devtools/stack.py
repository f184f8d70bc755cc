"""Run the whole system natively as separate processes: Temporal dev server (SQLite file, Web UI,
search attributes registered), mocks, API, the main worker and the vision worker.

Used by `make demo` (the embedded defaults) and by the end-to-end tests (other ports, a tmp data
folder). The store's schema is migrated once before the API and the workers start. Each process
logs to `{data_dir}/logs/{name}.log`.
"""

from __future__ import annotations

import compileall
import json
import os
import random
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import httpx

from domain.naming import SearchAttributeName

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
# The dev server's history service reads the tasks it must hand to workers (a workflow task, an
# activity) from its transfer queue at most 20 times a second by default, so every step of a
# workflow waited 20-30 ms for that read: a workflow of 8 activities in a row took 500 ms, 234
# ms with the reads unthrottled (`bench.dev_server_tuning`). The same holds
# for a cluster's history service (`deploy/temporal-dynamicconfig.yaml`).
DEV_SERVER_TUNING = ("--dynamic-config-value", "history.transferProcessorMaxPollRPS=1000")
# The dev server's SQLite file in write-ahead-log mode, synced at checkpoints rather than at
# every commit: a killed process loses nothing committed (bench.chaos kills the dev server), an
# operating-system crash or power cut may lose the last commits. A dev server's trade; a
# production cluster keeps its history in PostgreSQL (docker-compose.yml). Server CPU per step
# -30 %, four workflows at a time twice as fast.
DEV_SERVER_SQLITE = ("--sqlite-pragma", "journal_mode=wal", "--sqlite-pragma", "synchronous=normal")
_PORTS = random.SystemRandom()


@dataclass
class Ports:
    temporal: int = 7233
    ui: int = 8233
    api: int = 8000
    mocks: int = 8100

    @classmethod
    def free(cls) -> Ports:
        ports: list[int] = []
        while len(ports) < 4:
            port = _free_port()
            if port not in ports:
                ports.append(port)
        return cls(*ports)


@dataclass
class Stack:
    data_dir: Path
    ports: Ports = field(default_factory=Ports)
    ui: bool = True
    extra_env: dict[str, str] = field(default_factory=dict)
    tuned: bool = True  # the dev server with DEV_SERVER_TUNING and DEV_SERVER_SQLITE
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    _logs: dict[str, IO[bytes]] = field(default_factory=dict)
    _migrated: bool = False

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.ports.api}"

    @property
    def mocks_url(self) -> str:
        return f"http://127.0.0.1:{self.ports.mocks}"

    @property
    def temporal_address(self) -> str:
        return f"127.0.0.1:{self.ports.temporal}"

    @property
    def ui_url(self) -> str:
        return f"http://127.0.0.1:{self.ports.ui}"

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            {
                "LOANFLOW_DATA_DIR": str(self.data_dir),
                "LOANFLOW_TEMPORAL_ADDRESS": self.temporal_address,
                "LOANFLOW_MOCKS_URL": self.mocks_url,
                "LOANFLOW_API_URL": self.api_url,
                "PYTHONPATH": str(ROOT),
                "PYTHONUNBUFFERED": "1",
            }
        )
        # Every local applicant and load generator comes from 127.0.0.1: the per-address limits
        # would count them as one caller.
        env.setdefault("LOANFLOW_RATE_LIMIT_OVERRIDES", '{"start-ip": 100000, "sms-ip": 100000}')
        if self.ui:
            # The Web UI calls the codec endpoint from its own origin, whatever port it is on.
            origins = [self.ui_url, f"http://localhost:{self.ports.ui}"]
            env["LOANFLOW_CODEC_CORS_ORIGINS"] = json.dumps(origins)
            # The dev server's Web UI cannot send a sign-in with its codec requests: the local
            # demo opts out explicitly (the API logs it at start) unless told otherwise.
            env.setdefault("LOANFLOW_CODEC_REQUIRES_SIGN_IN", "false")
        env.update(self.extra_env)
        return env

    def commands(self) -> dict[str, list[str]]:
        temporal = [
            str(BIN / "temporal"), "server", "start-dev",
            "--db-filename", str(self.data_dir / "temporal.db"),
            "--ip", "127.0.0.1",
            "--port", str(self.ports.temporal),
            "--ui-port", str(self.ports.ui),
            "--ui-codec-endpoint", f"{self.api_url}/codec",
            "--ui-disable-news-fetch",
            "--log-level", "warn",
            *((*DEV_SERVER_TUNING, *DEV_SERVER_SQLITE) if self.tuned else ()),
        ]  # fmt: skip
        for name in SearchAttributeName.KEYWORDS:
            temporal += ["--search-attribute", f"{name}=Keyword"]
        for name in SearchAttributeName.DOUBLES:
            temporal += ["--search-attribute", f"{name}=Double"]
        for name in SearchAttributeName.INTS:
            temporal += ["--search-attribute", f"{name}=Int"]
        if not self.ui:
            temporal.append("--headless")
        py = sys.executable
        return {
            "temporal": temporal,
            "mocks": [py, "-m", "mocks", "--port", str(self.ports.mocks)],
            "api": [py, "-m", "api", "--port", str(self.ports.api)],
            "worker": [py, "-m", "workers.main"],
            "vision-worker": [py, "-m", "workers.vision"],
        }

    def migrate(self) -> None:
        """The one-shot schema upgrade that runs before the processes that use the store."""
        (self.data_dir / "logs").mkdir(parents=True, exist_ok=True)
        with open(self.data_dir / "logs" / "migrate.log", "ab") as log:
            subprocess.run(
                [sys.executable, "-m", "store.migrations", "upgrade"], cwd=ROOT, env=self.env(),
                stdout=log, stderr=subprocess.STDOUT, check=True, timeout=120,
            )  # fmt: skip
        self._migrated = True

    def start(self, *names: str) -> None:
        (self.data_dir / "logs").mkdir(parents=True, exist_ok=True)
        commands = self.commands()
        if not self._migrated and {"api", "worker"} & set(names or commands):
            self.migrate()
        if "worker" in (names or commands):
            # The workflow sandbox imports the workflow modules afresh for every workflow it
            # instantiates; without their bytecode on disk (PYTHONDONTWRITEBYTECODE, a read-only
            # image) each import compiles them from source again. The image compiles them too.
            compileall.compile_dir(ROOT / "workflows", quiet=1)
        for name in names or tuple(commands):
            self._close_log(name)
            log = self._logs[name] = open(self.data_dir / "logs" / f"{name}.log", "ab")  # noqa: SIM115
            self.processes[name] = subprocess.Popen(
                commands[name], cwd=ROOT, env=self.env(), stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip
            if name == "temporal":
                _wait_for_port(self.ports.temporal, self.processes[name], 60)
            elif name in ("api", "mocks"):
                url = self.api_url if name == "api" else self.mocks_url
                _wait_for_http(f"{url}/openapi.json", self.processes[name], 90)

    def kill(self, name: str, sig: int = signal.SIGKILL) -> None:
        proc = self.processes.pop(name)
        os.killpg(proc.pid, sig)
        proc.wait(timeout=30)
        self._close_log(name)

    def _close_log(self, name: str) -> None:
        log = self._logs.pop(name, None)
        if log is not None:
            log.close()

    def stop(self) -> None:
        for name in reversed(list(self.processes)):
            proc = self.processes.pop(name)
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
                try:
                    proc.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait(timeout=15)
            self._close_log(name)

    def check_alive(self) -> None:
        dead = {n: p.returncode for n, p in self.processes.items() if p.poll() is not None}
        if dead:
            raise RuntimeError(f"processes exited: {dead}; logs in {self.data_dir / 'logs'}")

    def log(self, name: str) -> str:
        path = self.data_dir / "logs" / f"{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""


def _free_port() -> int:
    """A port free now, below the kernel's ephemeral range (32768-60999 on Linux): a port the
    kernel hands out from that range can go to another process's outgoing connection before
    ours binds it (seen once: the mocks failing to bind in a CI run)."""
    for _ in range(200):
        port = _PORTS.randrange(20000, 32000)
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port in 20000-31999")


def _wait_for_port(port: int, proc: subprocess.Popen[bytes], seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"process exited with {proc.returncode} before listening on {port}")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise TimeoutError(f"nothing listening on {port} after {seconds}s")


def _wait_for_http(url: str, proc: subprocess.Popen[bytes], seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"process exited with {proc.returncode} before serving {url}")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise TimeoutError(f"{url} not answering after {seconds}s")
