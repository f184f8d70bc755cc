"""One applicant's way through the HTTP API, as a person on a phone takes it: the steps of their
behaviour (`bench.population`), a pause to think between steps, and, like an app, a retry of a
step the server could not answer (connection refused, 5xx, 429) until it goes through or is seen
to have gone through. Stage latencies count only the system's time, never the thinking.

Stages: `start` (POST → answer), `refusal` (documents submitted → asked to retake),
`identity` (documents submitted → carrier step), `decision` (carrier authorized → offer, review
or rejection), `review` (in review → offer, including the reviewer's delay), `contract`
(offer accepted → contract to sign), `payout` (signed → DISBURSED), `withdraw` (request →
CANCELLED), `total` (start → last status, including the applicant's own time).
"""

from __future__ import annotations

import random
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from bench.documents import Library, Person
from bench.population import Behaviour, Plan
from devtools.applicant import Applicant, ApplicantSession, StepRefused, ops_client

TERMINAL = frozenset({"DISBURSED", "REJECTED", "EXPIRED", "CANCELLED", "FAILED"})
RETRYABLE = frozenset({408, 425, 429, 500, 502, 503, 504})
# The app holds its GET up to LONG_POLL_S (long polling); asked again at once when the status
# moved, after POLL_S when it came back unmoved. An answer from the store (`live: false`: the
# workflow did not answer in time, the system is busy or a worker restarting) is asked again
# after a back-off doubling from POLL_S to QUIET_S, as an app's spinner does: asking five
# times a second would add to the load that made the answer late.
LONG_POLL_S, POLL_S, QUIET_S = 10.0, 0.2, 2.0


class Unexpected(RuntimeError):
    """The application went elsewhere than the behaviour leads (a finding, not a crash)."""


@dataclass
class Journey:
    plan: Plan
    application_id: str = ""
    status: str = ""
    stages: dict[str, float] = field(default_factory=dict)
    retries: int = 0
    error: str = ""

    @property
    def as_expected(self) -> bool:
        return not self.error and self.status == self.plan.expected


@dataclass
class Pace:
    """How long a person takes and how long the bench waits for the system."""

    think_s: float = 1.0  # mean pause between steps (exponential)
    stage_timeout_s: float = 600.0  # one stage of the system
    patience_s: float = 600.0  # retrying a step the server cannot answer


class Driver:
    def __init__(
        self, api_url: str, library: Library, person: Person, plan: Plan, pace: Pace
    ) -> None:
        self.library, self.person, self.plan, self.pace = library, person, plan, pace
        self.rng = random.Random(plan.seed)
        self.http = httpx.Client(base_url=api_url, timeout=60)
        applicant = Applicant(
            name=person.name, id_number=person.id_number, phone=person.phone,
            card_number=person.card_number, bank_code=person.bank_code, samples=person.folder,
        )  # fmt: skip
        self.session = ApplicantSession(self.http, applicant)
        self.journey = Journey(plan)
        self.view: dict[str, Any] = {}

    # ------------------------------------------------------------------ resilience

    def _call(self, step: Callable[[], Any], went_through: Callable[[], bool] | None = None) -> Any:
        deadline = time.monotonic() + self.pace.patience_s
        backoff = 0.5
        while True:
            try:
                return step()
            except (httpx.TransportError, StepRefused) as exc:
                code = exc.response.status_code if isinstance(exc, StepRefused) else None
                if code is not None and code not in RETRYABLE and code != 409:
                    raise
                if went_through is not None and self._safely(went_through):
                    return None
                if code == 409 or time.monotonic() > deadline:
                    raise
                self.journey.retries += 1
                time.sleep(backoff)
                backoff = min(backoff * 2, 5.0)

    def _safely(self, check: Callable[[], bool]) -> bool:
        try:
            return check()
        except (httpx.TransportError, StepRefused):
            return False

    def _status(self, since: str | None = None, wait: float = 0) -> dict[str, Any]:
        self.view = self._call(lambda: self.session.status(since=since, wait=wait))
        self.journey.status = self.view["status"]
        return self.view

    def _wait(self, done: Callable[[dict[str, Any]], bool], what: str) -> dict[str, Any]:
        """Long-poll GET (held while the status stays the same) until `done`."""
        deadline = time.monotonic() + self.pace.stage_timeout_s
        since, pause = None, POLL_S
        while (left := deadline - time.monotonic()) > 0:
            asked = time.monotonic()
            view = self._status(since, min(left, LONG_POLL_S))
            # Not live: the workflow did not answer and the API showed the store's last record,
            # without the offer or the attempts left; a person's app shows a spinner.
            live = view.get("live", True)
            if live and (done(view) or view["status"] in TERMINAL):
                return view
            if not live or view["status"] == since:
                time.sleep(max(0.0, pause - (time.monotonic() - asked)))
            pause = POLL_S if live else min(pause * 2, QUIET_S)
            since = view["status"] if live else None
        waited = self.pace.stage_timeout_s
        raise TimeoutError(f"still {self.journey.status} after {waited:.0f}s waiting for {what}")

    def _wait_for(self, *statuses: str) -> dict[str, Any]:
        return self._wait(lambda v: v["status"] in statuses, "/".join(statuses))

    def _past(self, *statuses: str) -> Callable[[], bool]:
        """A retried step went through if the application has left the stage it was taken in."""
        return lambda: self._status()["status"] not in statuses

    def _timed(self, stage: str, started: float) -> None:
        self.journey.stages[stage] = time.perf_counter() - started

    def _think(self) -> None:
        time.sleep(self.rng.expovariate(1 / self.pace.think_s) if self.pace.think_s else 0)

    def _expect(self, view: dict[str, Any], *statuses: str) -> None:
        if view["status"] not in statuses:
            reasons = ",".join(str(r.get("code")) for r in view.get("reasons") or [])
            raise Unexpected(f"{view['status']} ({reasons or 'no reason'}) instead of "
                             f"{'/'.join(statuses)}")  # fmt: skip

    # ------------------------------------------------------------------ the person

    def run(self) -> Journey:
        began = time.perf_counter()
        try:
            self._apply()
        except Unexpected as exc:
            self.journey.error = f"unexpected: {exc}"
        except Exception as exc:  # noqa: BLE001 - recorded: one applicant's failure is a figure
            self.journey.error = f"{type(exc).__name__}: {exc}"[:300]
        finally:
            self.journey.stages["total"] = time.perf_counter() - began
            self.http.close()
        return self.journey

    def _apply(self) -> None:
        behaviour = self.plan.behaviour
        t = time.perf_counter()
        # The same id on every retry: the API answers a repeated start with the same application.
        request_id = str(
            uuid.uuid5(uuid.NAMESPACE_URL, f"bench/{self.plan.seed}/{self.plan.index}")
        )
        device = f"bench-{self.plan.seed:016x}"  # one phone: the same fingerprint on every retry
        started = self._call(lambda: self.session.start(request_id=request_id, device=device))
        self.journey.application_id = self.session.application_id
        self._timed("start", t)
        self._expect(self._wait_for("AWAITING_DOCUMENTS"), "AWAITING_DOCUMENTS")
        # The start answers without the challenge when the workflow could not be queried in
        # time; the app then reads it with the status, as the API documents.
        challenge = started.get("liveness_challenge") or self.view.get("liveness_challenge")
        windows = (challenge or {}).get("windows", [])
        self._think()
        if behaviour is Behaviour.ABANDON_DOCUMENTS:
            self._upload("id_front", self.person.document("id_front"))
            return
        if behaviour is Behaviour.RETAKE:
            self._documents(self.library.wrong_video(self.person, windows), "refusal")
            self._expect(self.view, "AWAITING_DOCUMENTS")
            self._think()
        self._documents(self.library.video(self.person, windows), "identity")
        self._expect(self.view, "AWAITING_CARRIER_AUTH")
        self._think()
        t = time.perf_counter()
        self._call(lambda: self.session.authorize_carrier(), self._past("AWAITING_CARRIER_AUTH"))
        view = self._wait_for("OFFERED", "MANUAL_REVIEW")
        self._timed("decision", t)
        if view["status"] == "MANUAL_REVIEW":
            t = time.perf_counter()
            view = self._wait_for("OFFERED")
            self._timed("review", t)
        if behaviour is Behaviour.DECLINE:
            self._expect(view, "REJECTED")
            return
        self._expect(view, "OFFERED")
        self._think()
        if behaviour is Behaviour.ABANDON_OFFER:
            return
        if behaviour is Behaviour.WITHDRAW:
            t = time.perf_counter()
            self._call(self.session.withdraw, self._past("OFFERED"))
            self._expect(self._wait_for("CANCELLED"), "CANCELLED")
            self._timed("withdraw", t)
            return
        amount = min(1_000_000, view["offer"]["limit"])
        t = time.perf_counter()
        self._call(lambda: self.session.accept(amount=amount, term=12), self._past("OFFERED"))
        self._expect(self._wait_for("AWAITING_SIGNATURE"), "AWAITING_SIGNATURE")
        self._timed("contract", t)
        self._think()
        t = time.perf_counter()
        self._call(lambda: self.session.sign(), self._past("AWAITING_SIGNATURE"))
        self._expect(self._wait_for("DISBURSED"), "DISBURSED")
        self._timed("payout", t)

    def _upload(self, kind: str, data: bytes) -> None:
        self._call(lambda: self.session.upload(kind, data))

    def _documents(self, video: bytes, stage: str) -> None:
        """Upload all four and submit; wait until this submission is judged."""
        attempts = self.view.get("document_attempts_left")
        for kind in ("id_front", "id_back", "selfie"):
            self._upload(kind, self.person.document(kind))
        self._upload("liveness_video", video)
        t = time.perf_counter()
        self._call(lambda: self.session.submit_documents(), self._past("AWAITING_DOCUMENTS"))
        self._wait(lambda v: _judged(v, attempts), stage)
        self._timed(stage, t)


def _judged(view: dict[str, Any], attempts_before: int | None) -> bool:
    """A submission is judged once verification is over: the application moved on, or it asks
    for documents again with one attempt fewer left."""
    if view["status"] == "AWAITING_DOCUMENTS":
        return view.get("document_attempts_left") != attempts_before
    return view["status"] != "VERIFYING_IDENTITY"


class Reviewer(threading.Thread):
    """An ops reviewer: signed in, watches the queue, approves each case `delay_s` after it
    first appears (a person reading the evidence)."""

    def __init__(self, api_url: str, delay_s: float) -> None:
        super().__init__(name="reviewer", daemon=True)
        self.api_url, self.delay_s = api_url, delay_s
        self.stopping = threading.Event()
        self.seen: dict[str, float] = {}
        self.decided: set[str] = set()
        self.errors = 0

    def run(self) -> None:
        client: httpx.Client | None = None
        while not self.stopping.wait(0.5):
            try:
                client = client or ops_client(self.api_url)
                queue = client.get("/v1/ops/reviews")
                if queue.status_code == 401:
                    client = None
                    continue
                queue.raise_for_status()
                now = time.monotonic()
                for item in queue.json():
                    app_id = item["id"]
                    first = self.seen.setdefault(app_id, now)
                    if app_id in self.decided or now - first < self.delay_s:
                        continue
                    answer = client.post(f"/v1/ops/reviews/{app_id}", json={"outcome": "APPROVE"})
                    if answer.status_code < 300 or answer.status_code == 409:
                        self.decided.add(app_id)
            except (httpx.HTTPError, StepRefused):
                self.errors += 1
                if client is not None:
                    client.close()
                client = None
        if client is not None:
            client.close()
