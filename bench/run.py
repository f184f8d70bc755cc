"""The machinery a load or chaos run shares: the stack on a fresh data folder (SQLite, or a
schema of its own on PostgreSQL), the population's documents rendered before the stack starts,
a warm-up applicant, the simulated reviewer, and the population driven at an arrival rate or as
fast as a fixed number of concurrent applicants allows."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import text

from bench.documents import Library, Person, register
from bench.journey import Driver, Journey, Pace, Reviewer
from bench.population import Behaviour, Plan
from devtools.stack import Ports, Stack
from store.db import make_engine

DEFAULT_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
WARM_UP_SERIAL = 4999  # a person no plan uses


@contextmanager
def postgres_schema(url: str) -> Iterator[str]:
    """A schema of its own on the shared PostgreSQL, dropped afterwards; yields its search path
    option for a URL."""
    schema, admin = f"bench_{uuid.uuid4().hex[:10]}", make_engine(url)
    with admin.begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    try:
        yield f"options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


def with_query(url: str, option: str) -> str:
    return f"{url}{'&' if '?' in url else '?'}{option}"


@dataclass
class Population:
    plans: list[Plan]
    library: Library = field(default_factory=Library)
    people: dict[int, Person] = field(default_factory=dict)
    warm_up: Person | None = None
    rendered: int = 0
    render_s: float = 0.0

    def render(self) -> None:
        """Before the stack starts: nothing else competes for the CPU yet."""
        t = time.perf_counter()
        wanted = [(p.persona, p.serial) for p in self.plans] + [("approve", WARM_UP_SERIAL)]
        self.rendered = self.library.prepare(wanted)
        self.render_s = time.perf_counter() - t
        self.people = {p.index: self.library.person(p.persona, p.serial) for p in self.plans}
        self.warm_up = self.library.person("approve", WARM_UP_SERIAL)

    def register(self, mocks_url: str) -> None:
        assert self.warm_up is not None
        register(mocks_url, [*self.people.values(), self.warm_up])


def start_stack(
    data_dir: Path, extra_env: dict[str, str] | None = None, ports: Ports | None = None
) -> Stack:
    stack = Stack(
        data_dir=data_dir, ports=ports or Ports.free(), ui=False, extra_env=extra_env or {}
    )
    stack.start()
    return stack


def warm_up(stack: Stack, population: Population, pace: Pace) -> Journey:
    """One complete application before measuring: models loaded, code paths compiled."""
    assert population.warm_up is not None
    plan = Plan(-1, Behaviour.COMPLETE, WARM_UP_SERIAL, 0.0, seed=7)
    journey = Driver(stack.api_url, population.library, population.warm_up, plan, pace).run()
    if not journey.as_expected:
        raise RuntimeError(f"the warm-up applicant failed: {journey.status} {journey.error}; "
                           f"logs in {stack.data_dir / 'logs'}")  # fmt: skip
    return journey


def drive(
    api_url: str,
    population: Population,
    pace: Pace,
    concurrency: int | None,
    review_delay_s: float,
) -> tuple[list[Journey], float]:
    """Each applicant at their arrival time (`concurrency` None), or `concurrency` at a time
    as fast as possible; the journeys and the seconds from the first arrival to the last end."""
    reviewer = Reviewer(api_url, review_delay_s)
    reviewer.start()
    plans = population.plans
    started = time.monotonic()

    def one(plan: Plan) -> Journey:
        if concurrency is None:
            time.sleep(max(0.0, started + plan.arrival_s - time.monotonic()))
        person = population.people[plan.index]
        return Driver(api_url, population.library, person, plan, pace).run()

    try:
        with ThreadPoolExecutor(concurrency or max(1, len(plans))) as pool:
            journeys = list(pool.map(one, plans))
    finally:
        reviewer.stopping.set()
        reviewer.join(timeout=10)
    return journeys, time.monotonic() - started


# The API's status route, as its metrics name it.
STATUS_ROUTE = "/v1/applications/{application_id}"


def api_counts(api_url: str) -> dict[str, float]:
    """Status GETs answered and live status queries asked, so far, by the API."""
    metrics = httpx.get(f"{api_url}/metrics", timeout=10).text
    counts = {"status GETs": 0.0, "status queries": 0.0}
    for family in text_string_to_metric_families(metrics):
        for sample in family.samples:
            labels = sample.labels
            if sample.name == "loanflow_http_requests_total" and labels.get("method") == "GET" \
                    and labels.get("route") == STATUS_ROUTE:  # fmt: skip
                counts["status GETs"] += sample.value
            elif sample.name == "loanflow_status_queries_total":
                counts["status queries"] += sample.value
    return counts
