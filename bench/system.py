"""End-to-end throughput and latency: the real processes (dev server, both workers, mocks, API)
on this machine, N applicants driven concurrently over HTTP from submission to DISBURSED.

    .venv/bin/python -m bench.system --applications 12 --concurrency 4

Prints and writes to BENCHMARKS.md (section `system`): applications per minute, and per-stage
latency (p50 / p95 / max) of what the applicant waits for: start, identity verification
(documents submitted → carrier step), decision (carrier authorized → offer), payout (signed →
DISBURSED), and the whole application including the steps the applicant takes. A stage ends
when the workflow entered the stage after it, read from its audit trail afterwards.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import shutil
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import httpx

from bench.documents import Library
from bench.report import update_section
from bench.stats import latency_table
from devtools.applicant import FACES, SAMPLES, Applicant, ApplicantSession, ops_client
from devtools.stack import Ports, Stack
from domain.idnumber import make_id_number
from mocks.personas import make_card_number
from synthetic.id_cards import CardHolder, card_back, card_front, jpeg, portrait


def make_applicant(k: int, work: Path, mocks_url: str) -> Applicant:
    """A distinct person per application (the pre-screen refuses many applications for one ID
    number, as it should): the approve persona's card re-rendered with a new good-bureau ID
    number, registered with the identity simulator."""
    base = json.loads((SAMPLES / "manifest.json").read_text())["approve"]
    id_number = make_id_number("110101", date.fromisoformat(base["birth_date"]), 10 * k + 1)
    holder = CardHolder(
        name=base["name"], sex=base["sex"], ethnicity=base["ethnicity"],
        birth=date.fromisoformat(base["birth_date"]), address=base["address"],
        id_number=id_number, authority=base["issuing_authority"],
        valid_from=date.fromisoformat(base["valid_from"]),
        valid_until=date.fromisoformat(base["valid_until"]),
    )  # fmt: skip
    folder = work / f"applicant-{k}"
    folder.mkdir()
    photos = base["photos"]
    front = card_front(holder, portrait(photos["card_portrait"]), k)
    (folder / "id_front.jpg").write_bytes(jpeg(front, 88))
    (folder / "id_back.jpg").write_bytes(jpeg(card_back(holder, k), 88))
    shutil.copy(SAMPLES / "approve" / "selfie.jpg", folder / "selfie.jpg")
    reference = base64.b64encode((FACES / photos["reference_portrait"]).read_bytes()).decode()
    citizen = {"name": holder.name, "id_number": id_number, "portrait_jpeg_b64": reference}
    httpx.post(f"{mocks_url}/admin/v1/citizens", json=citizen, timeout=30).raise_for_status()
    return Applicant(
        name=holder.name, id_number=id_number, phone=f"135{uuid.uuid4().int % 10**7:07d}8",
        card_number=make_card_number("8888", serial=k), bank_code="ICBC", samples=folder,
        video_photo=photos["video"],
    )  # fmt: skip


class RenderedSession(ApplicantSession):
    """An applicant whose liveness video was rendered before the run (`bench.documents`), so
    that animating it does not take the CPU of the applications being measured."""

    def __init__(self, http: httpx.Client, applicant: Applicant, library: Library) -> None:
        super().__init__(http, applicant)
        self.library = library

    def liveness_video(self) -> bytes:
        assert self.applicant.video_photo is not None and self.challenge is not None
        return self.library.face_video(self.applicant.video_photo, self.challenge["windows"])


# Seconds between status reads while the applicant waits. Stage latencies do not come from
# this poll but from the workflow's own audit trail (the time each stage was entered), so the
# poll can be as slow as a real app's without blurring the figures, and it no longer takes the
# CPU it measures: four applicants polling every 0.05 s made 80 live queries a second.
POLL = 0.5
# The stage each timed step ends in, as the audit trail records it.
STAGE_ENDS = {"identity": "AWAITING_CARRIER_AUTH", "decision": "OFFERED", "payout": "DISBURSED"}


@dataclass
class Run:
    """One application: when the applicant took each timed step (this machine's clock, UTC),
    and how long the start took."""

    application_id: str
    start_s: float
    began: datetime
    steps: dict[str, datetime]


def one_application(api_url: str, applicant: Applicant, library: Library) -> Run:
    steps: dict[str, datetime] = {}
    with httpx.Client(base_url=api_url, timeout=120) as http:
        session = RenderedSession(http, applicant, library)
        began, t0 = datetime.now(UTC), time.perf_counter()
        session.start()
        start_s = time.perf_counter() - t0
        session.wait_for("AWAITING_DOCUMENTS", interval=POLL)
        session.upload_all()
        steps["identity"] = datetime.now(UTC)
        session.submit_documents()
        view = session.wait_for("AWAITING_CARRIER_AUTH", timeout=600, interval=POLL)
        if view["status"] != "AWAITING_CARRIER_AUTH":
            raise RuntimeError(f"identity ended {view['status']}: {view.get('reasons')}")
        steps["decision"] = datetime.now(UTC)
        session.authorize_carrier()
        offer = session.wait_for("OFFERED", timeout=300, interval=POLL)["offer"]
        session.accept(amount=min(1_000_000, offer["limit"]), term=12)
        session.wait_for("AWAITING_SIGNATURE", interval=POLL)
        steps["payout"] = datetime.now(UTC)
        session.sign()
        final = session.wait_for("DISBURSED", timeout=300, interval=POLL)
        if final["status"] != "DISBURSED":
            raise RuntimeError(f"ended {final['status']}")
    return Run(str(session.application_id), start_s, began, steps)


def stage_timings(ops: httpx.Client, run: Run) -> dict[str, float]:
    """Each timed step's latency: from the applicant's request to the time the workflow
    entered the stage that ends it (its audit trail, `GET /v1/ops/applications/{id}`)."""
    response = ops.get(f"/v1/ops/applications/{run.application_id}").raise_for_status()
    entered: dict[str, datetime] = {}
    for entry in sorted(response.json()["audit"], key=lambda e: e["seq"]):
        entered.setdefault(entry["status"], datetime.fromisoformat(entry["at"]))
    timings = {"start": run.start_s}
    for stage, status in STAGE_ENDS.items():
        timings[stage] = (entered[status] - run.steps[stage]).total_seconds()
    timings["total"] = (entered["DISBURSED"] - run.began).total_seconds()
    return timings


def dlib_build() -> str:
    """Which dlib the stack's vision worker runs (the same interpreter as this process)."""
    import dlib

    return "dlib with OpenBLAS (`make dlib-blas`)" if dlib.DLIB_USE_BLAS else "`dlib-bin`"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--applications", type=int, default=12, help="at most 69")
    parser.add_argument("--concurrency", type=int, default=4)
    args = parser.parse_args()
    library = Library()
    face = json.loads((SAMPLES / "manifest.json").read_text())["approve"]["photos"]["video"]
    rendered = library.prepare_videos([face])
    with tempfile.TemporaryDirectory() as data:
        stack = Stack(data_dir=Path(data), ports=Ports.free(), ui=False)
        try:
            stack.start()
            people = [make_applicant(k, Path(data), stack.mocks_url)
                      for k in range(args.applications + 1)]  # fmt: skip
            # warm the models and the code paths
            one_application(stack.api_url, people.pop(), library)
            started = time.perf_counter()
            with ThreadPoolExecutor(args.concurrency) as pool:
                done = list(pool.map(lambda p: one_application(stack.api_url, p, library), people))
            elapsed = time.perf_counter() - started
            with ops_client(stack.api_url) as ops:
                runs = [stage_timings(ops, run) for run in done]
        finally:
            stack.stop()
    rate = args.applications / elapsed * 60
    stages = ("start", "identity", "decision", "payout", "total")
    rows = latency_table({s: [run[s] for run in runs] for s in stages}, stages, [0.95])
    body = (
        f"{args.applications} applications, {args.concurrency} at a time, SQLite store, one worker "
        f"and one vision worker on the same 2 cores as the load generator, which uploads cards "
        f"and liveness videos rendered before the timed run ({rendered} videos rendered for "
        f"this run, the rest from `.data/bench-cache`; {library.rendered_during_run} during "
        f"it); face models: {dlib_build()}: **{rate:.1f} applications per minute** "
        f"({elapsed:.1f} s).\n\n" + "\n".join(rows) + "\n\n"
        "`identity` is documents submitted → carrier step (CPU-bound vision on the `vision` "
        "queue); `decision` is carrier authorized → offer (the simulator produces the carrier "
        "report 0.2 s after authorization; the bureau report was fetched during the carrier "
        "step; the policy); "
        "`payout` is contract signed → DISBURSED (seal, pre-payout check, gateway settlement "
        "delay of the simulator 0.3 s). `total` includes the applicant's own steps. Each "
        "ends when the workflow entered the stage that ends it (its audit trail), not when a "
        f"status poll saw it; the applicants poll every {POLL:g} s, as an app would."
    )
    load = os.getloadavg()[0]
    cores = os.cpu_count() or 1
    shared = (
        "above the core count: other jobs shared the machine and the figures carry their noise"
        if load > cores
        else "the run's own processes and the load generator"
    )
    body += f"\n\nLoad average when the run ended: {load:.1f} on {cores} cores ({shared})."
    print(body)
    # One application at a time and several at a time are kept side by side.
    name, title = "system", "End to end: applications through the real processes"
    if args.concurrency > 1:
        name, title = f"system-{args.concurrency}", f"{title}, {args.concurrency} at a time"
    command = (
        f"python -m bench.system --applications {args.applications} "
        f"--concurrency {args.concurrency}"
    )
    if "OpenBLAS" in dlib_build():  # kept beside the dlib-bin figures
        name, title = f"{name}-blas", f"{title}, dlib with OpenBLAS"
        command += " (after make dlib-blas)"
    update_section(name, title, body, command)


if __name__ == "__main__":
    main()
