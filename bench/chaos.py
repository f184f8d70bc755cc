"""Chaos bench: a load run (`bench.load`'s population, applicants who retry what the server
could not answer) while faults are injected, then every reliability invariant checked
(`bench.invariants`).

    .venv/bin/python -m bench.chaos --applications 100 --rate 30 --kills 12

Faults, on a schedule drawn from the seed over the arrival window:
- SIGKILL of the main worker or the vision worker (the whole process group), restarted after
  0.5-3 s, `--kills` times;
- one SIGKILL and restart of the Temporal dev server (its state is its SQLite file);
- the application store unreachable for `--db-down` seconds: the store is a schema of its own on
  the local PostgreSQL, and every process reaches it through a TCP proxy (`devtools.faults`)
  that resets open connections and refuses new ones; PostgreSQL itself, shared with other
  users, keeps running. (A SQLite file cannot be taken away from processes that hold it open,
  so the chaos run always uses PostgreSQL.)
- the simulators turned up with the knobs they have (`mocks/PERSONAS.md`): the gateway's
  settlement delay raised, its DIRECT channel down for a while (channel errors: the payout
  switches channel), a share of the cards failing their first payout attempt or never calling
  back (polling must find out), a share of the carrier reports delayed. The simulators have no
  error-rate or latency knob common to every vendor, so the processes reach them through a
  fault proxy (`devtools.faults.HttpFaults`) that, over the same window, answers a share of
  vendor calls 503 without forwarding them, forwards a share and loses the answer (502 after
  the vendor acted), and delays every call.

After the load the faults are undone and the run settles (until no application is in a
transient stage and the store agrees, or `--settle` seconds). Prints the verdict table and writes
it to BENCHMARKS.md (section `chaos`).
"""

from __future__ import annotations

import argparse
import asyncio
import random
import signal
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from bench.invariants import ApplicationFacts, Verdict, check
from bench.journey import Journey, Pace
from bench.population import plan_population
from bench.report import update_section
from bench.run import (
    DEFAULT_POSTGRES,
    Population,
    api_counts,
    postgres_schema,
    start_stack,
    warm_up,
    with_query,
)
from bench.run import drive as drive_population
from bench.temporal_facts import WorkflowFacts, collect, unreplayable
from config.settings import get_settings
from config.temporal import data_converter
from devtools.applicant import ops_client
from devtools.faults import HttpFaults, TcpProxy
from devtools.stack import Ports, Stack

TRANSIENT = frozenset(
    {"SUBMITTED", "VERIFYING_IDENTITY", "DECISIONING", "PRE_PAYOUT_CHECK", "DISBURSING"}
)
WORKERS = ("worker", "vision-worker")
VENDOR_FAULTS = {"error_rate": 0.15, "lost_answer_rate": 0.1, "latency_s": 0.3}


@dataclass
class Fault:
    at_s: float
    kind: str  # kill:<process> | restart:temporal | db-down | vendors-degraded
    detail: str = ""


@dataclass
class ChaosLog:
    injected: dict[str, int] = field(default_factory=dict)
    events: list[str] = field(default_factory=list)
    started: float = field(default_factory=time.monotonic)

    def note(self, kind: str, detail: str = "") -> None:
        self.injected[kind] = self.injected.get(kind, 0) + 1
        self.events.append(f"{time.monotonic() - self.started:.0f} s {kind} {detail}".rstrip())


def schedule(seed: int, window_s: float, kills: int, db_down_s: float) -> list[Fault]:
    """The faults of a run, from the seed: kills spread over the window, the dev server restart
    and the database cut in its middle half, the vendors degraded over its middle half."""
    rng = random.Random(seed)
    start, end = min(10.0, window_s * 0.1), max(window_s, 20.0)
    faults = [Fault(rng.uniform(start, end), f"kill:{rng.choice(WORKERS)}") for _ in range(kills)]
    faults.append(Fault(rng.uniform(end * 0.25, end * 0.75), "restart:temporal"))
    faults.append(Fault(rng.uniform(end * 0.25, end * 0.75), "db-down", f"{db_down_s:g}s"))
    faults.append(Fault(end / 4, "vendors-degraded", f"{end / 2:.0f}s"))
    return sorted(faults, key=lambda f: f.at_s)


class Injector(threading.Thread):
    def __init__(
        self,
        stack: Stack,
        proxy: TcpProxy,
        vendors: HttpFaults,
        faults: list[Fault],
        db_down_s: float,
        seed: int,
    ) -> None:
        super().__init__(name="chaos", daemon=True)
        self.stack, self.proxy, self.vendors, self.faults = stack, proxy, vendors, faults
        self.db_down_s = db_down_s
        self.rng = random.Random(seed + 1)
        self.log = ChaosLog()
        self.lock = threading.Lock()  # the stack's process table
        self.errors: list[str] = []
        self._timers: list[threading.Timer] = []

    def run(self) -> None:
        self.log.started = time.monotonic()
        for fault in self.faults:
            time.sleep(max(0.0, self.log.started + fault.at_s - time.monotonic()))
            try:
                self._inject(fault)
            except Exception as exc:  # noqa: BLE001 - the run goes on; the report shows it
                self.errors.append(f"{fault.kind}: {type(exc).__name__}: {exc}")

    def _inject(self, fault: Fault) -> None:
        kind, _, name = fault.kind.partition(":")
        if kind in ("kill", "restart"):
            with self.lock:
                self.stack.kill(name, signal.SIGKILL)
            self.log.note(fault.kind)
            time.sleep(self.rng.uniform(0.5, 3.0))
            with self.lock:
                self.stack.start(name)
        elif kind == "db-down":
            self.proxy.cut()
            self.log.note(kind, fault.detail)
            time.sleep(self.db_down_s)
            self.proxy.restore()
        elif kind == "vendors-degraded":
            self._degrade(True)
            f = VENDOR_FAULTS
            self.log.note(
                kind,
                f"for {fault.detail}: {f['error_rate']:.0%} of vendor calls refused, "
                f"{f['lost_answer_rate']:.0%} answers lost, up to {2 * f['latency_s']:g} s "
                "added, gateway settling in 3 s, DIRECT down",
            )
            timer = threading.Timer(float(fault.detail.rstrip("s")), self._degrade, [False])
            timer.start()
            self._timers.append(timer)

    def _degrade(self, on: bool) -> None:
        self.vendors.set(**(VENDOR_FAULTS if on else {}))
        knobs = {
            "settle_delay_seconds": 3.0 if on else 1.0,
            "down_channels": ["DIRECT"] if on else [],
        }
        httpx.patch(f"{self.stack.mocks_url}/admin/v1/gateway", json=knobs, timeout=10)

    def finish(self) -> None:
        """Everything back: the store reachable, every process up, the gateway healthy."""
        self.join()
        for timer in self._timers:
            timer.cancel()
        self.proxy.restore()
        with self.lock:
            missing = set(self.stack.commands()) - set(self.stack.processes)
            for name in ("temporal", *sorted(missing - {"temporal"})):
                if name in missing:
                    self.stack.start(name)
        self._degrade(False)


def degrade_simulators(stack: Stack, population: Population, seed: int) -> dict[str, int]:
    """Per-person faults: payouts failing once or losing their callback, slow carrier reports;
    the gateway slower for everyone. The counts injected."""
    rng = random.Random(seed + 2)
    counts = {"payout first attempt fails": 0, "payout callback lost": 0,
              "carrier report 4 s late": 0}  # fmt: skip
    with httpx.Client(base_url=stack.mocks_url, timeout=30) as http:
        http.patch("/admin/v1/gateway", json={"settle_delay_seconds": 1.0}).raise_for_status()
        for person in population.people.values():
            draw = rng.random()
            if draw < 0.2:
                fault = "FIRST_ATTEMPT_FAILS" if draw < 0.1 else "LOST_CALLBACK"
                body = {"card_number": person.card_number, "payout_fault": fault}
                http.post("/admin/v1/bank-cards", json=body).raise_for_status()
                key = "payout first attempt fails" if draw < 0.1 else "payout callback lost"
                counts[key] += 1
            if rng.random() < 0.2:
                body = {"phone": person.phone, "report_delay_seconds": 4.0}  # type: ignore[dict-item]
                http.post("/admin/v1/carrier-profiles", json=body).raise_for_status()
                counts["carrier report 4 s late"] += 1
    return counts


def gather(stack: Stack, ids: list[str]) -> tuple[dict[str, ApplicationFacts], list[WorkflowFacts],
                                                  list[dict[str, object]]]:  # fmt: skip
    apps: dict[str, ApplicationFacts] = {}
    with ops_client(stack.api_url) as ops:
        for app_id in ids:
            response = ops.get(f"/v1/ops/applications/{app_id}")
            body = response.json() if response.status_code == 200 else {}
            row, live = body.get("application") or {}, body.get("live") or {}
            deadline = live.get("deadline")
            apps[app_id] = ApplicationFacts(
                app_id, row.get("status"), live.get("status"),
                datetime.fromisoformat(deadline) if deadline else None,
            )  # fmt: skip
    ledger = httpx.get(f"{stack.mocks_url}/admin/v1/payouts", timeout=30).json()["orders"]
    workflows = asyncio.run(collect(stack.temporal_address))
    return apps, workflows, ledger


def settle(stack: Stack, ids: list[str], seconds: float) -> tuple[Verdict, float]:
    """Check until the run has settled (nothing transient, store in agreement) or time is up."""
    started = time.monotonic()
    while True:
        apps, workflows, ledger = gather(stack, ids)
        verdict = check(ids, apps, workflows, ledger, datetime.now(UTC))
        transient = any((a.live_status or a.store_status) in TRANSIENT for a in apps.values())
        waited = time.monotonic() - started
        if (verdict.passed and not transient) or waited > seconds:
            return verdict, waited
        time.sleep(5)


def report(
    args: argparse.Namespace,
    verdict: Verdict,
    log: ChaosLog,
    simulators: dict[str, int],
    journeys: list[Journey],
    elapsed: float,
    settled_s: float,
    errors: list[str],
    vendor_counts: dict[str, int],
) -> str:
    faults = {
        **log.injected,
        **simulators,
        **{f"vendor calls {k}": v for k, v in vendor_counts.items() if k != "forwarded"},
    }
    kills = sum(v for k, v in log.injected.items() if k.startswith("kill:"))
    rows = [
        "| check | result |", "|---|---|",
        f"| applications | {verdict.applications} |",
        f"| faults injected | {kills} SIGKILLs of the worker or the vision worker, "
        + ", ".join(f"{k} {v}" for k, v in faults.items() if not k.startswith("kill:")) + " |",
        f"| lost | {len(verdict.lost)} |",
        f"| stuck | {len(verdict.stuck)} |",
        f"| workflow tasks failing for good | {len(verdict.failing_tasks)} |",
        f"| duplicate payments | {len(verdict.duplicate_payments)} |",
        f"| store mismatches | {len(verdict.store_mismatches)} |",
        f"| histories that do not replay with this code | {len(verdict.unreplayable)} |",
        f"| **verdict** | **{'PASS' if verdict.passed else 'FAIL'}** |",
    ]  # fmt: skip
    unexpected = [j for j in journeys if not j.as_expected]
    statuses = ", ".join(f"{s} {n}" for s, n in sorted(verdict.by_status.items()))
    lines = [
        f"{len(journeys)} applicants (Poisson, {args.rate:g} a minute, seed {args.seed}) over "
        f"{elapsed:.0f} s of load, then {settled_s:.0f} s to settle; PostgreSQL store through "
        "the cuttable proxy.",
        "",
        *rows,
        "",
        f"Final statuses: {statuses}. Applicants whose journey ended otherwise than planned: "
        f"{len(unexpected)}; steps retried by the applicants' apps: "
        f"{sum(j.retries for j in journeys)}.",
    ]
    for j in unexpected[:10]:
        lines.append(f"- {j.plan.behaviour} {j.application_id}: {j.status} {j.error}")
    for name, items in (("lost", verdict.lost), ("stuck", verdict.stuck),
                        ("failing tasks", verdict.failing_tasks),
                        ("duplicate payments", verdict.duplicate_payments),
                        ("store mismatches", verdict.store_mismatches),
                        ("histories that do not replay", verdict.unreplayable)):  # fmt: skip
        if items:
            lines.append(f"- {name}: {', '.join(items[:10])}")
    if errors:
        lines.append(f"- faults that could not be injected: {'; '.join(errors)}")
    lines += ["", "Fault timeline: " + "; ".join(log.events) + "."]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--applications", type=int, default=100)
    parser.add_argument("--rate", type=float, default=30.0, help="arrivals per minute")
    parser.add_argument("--kills", type=int, default=12, help="worker and vision-worker kills")
    parser.add_argument("--db-down", type=float, default=30.0, help="seconds")
    parser.add_argument("--settle", type=float, default=600.0, help="seconds at most")
    parser.add_argument("--seed", type=int, default=12)
    parser.add_argument("--think", type=float, default=1.0)
    parser.add_argument("--review-delay", type=float, default=5.0)
    parser.add_argument("--postgres", default=DEFAULT_POSTGRES)
    parser.add_argument("--note", default="", help="a line added to the written section")
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()

    plans = plan_population(args.applications, args.seed, None, args.rate)
    population = Population(plans)
    population.render()
    window = plans[-1].arrival_s
    faults = schedule(args.seed, window, args.kills, args.db_down)
    target = urlsplit(args.postgres.replace("+psycopg", ""))
    proxy = TcpProxy((target.hostname or "127.0.0.1", target.port or 5432)).start()
    proxied = args.postgres.replace(f":{target.port or 5432}/", f":{proxy.port}/")
    pace = Pace(think_s=args.think, stage_timeout_s=900, patience_s=900)
    ports = Ports.free()
    vendors = HttpFaults(f"http://127.0.0.1:{ports.mocks}", seed=args.seed).start()
    with tempfile.TemporaryDirectory() as data, postgres_schema(args.postgres) as search_path:
        env = {"DATABASE_URL": with_query(proxied, search_path), "LOANFLOW_MOCKS_URL": vendors.url}
        stack = start_stack(Path(data), env, ports)
        try:
            population.register(stack.mocks_url)
            warm_up(stack, population, pace)
            simulators = degrade_simulators(stack, population, args.seed)
            injector = Injector(stack, proxy, vendors, faults, args.db_down, args.seed)
            injector.start()
            counts_before = api_counts(stack.api_url)
            journeys, elapsed = drive_population(stack.api_url, population, pace, None,
                                                 args.review_delay)  # fmt: skip
            counts = {k: v - counts_before[k] for k, v in api_counts(stack.api_url).items()}
            injector.finish()
            ids = [j.application_id for j in journeys if j.application_id]
            verdict, settled_s = settle(stack, ids, args.settle)
            converter = data_converter(get_settings())  # the stack's processes share this env
            verdict.unreplayable = asyncio.run(unreplayable(stack.temporal_address, converter))
        finally:
            stack.stop()
            proxy.stop()
            vendors.stop()
    body = report(args, verdict, injector.log, simulators, journeys, elapsed, settled_s,
                  injector.errors, vendors.counts)  # fmt: skip
    gets, queries = counts["status GETs"], counts["status queries"]
    body += (f"\n\nThe API answered {gets:.0f} status GETs over the load ({gets / elapsed:.1f} a "
             f"second) and asked the workflows {queries:.0f} live status queries "
             f"({queries / elapsed:.1f} a second).")  # fmt: skip
    if args.note:
        body = f"{args.note}\n\n{body}"
    print(body)
    if not args.no_write:
        command = (f"python -m bench.chaos --applications {args.applications} --rate "
                   f"{args.rate:g} --kills {args.kills} --db-down {args.db_down:g} "
                   f"--seed {args.seed}")  # fmt: skip
        update_section("chaos", "Chaos: faults during a load run, then the invariants", body,
                       command)  # fmt: skip
    if not verdict.passed:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
