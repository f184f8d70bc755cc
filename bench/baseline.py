"""What Temporal costs: the same applications through the same activity code, once in one process
with no workflow engine (`bench/no_temporal_application.py`: plain async calls in the workflow's
order, the same parallel branches) and once through the real processes (dev server, both
workers, mocks, API over HTTP, as `bench/system.py` drives them), in one run on one machine.

    .venv/bin/python -m bench.baseline --applications 24 --concurrency 4

Reported for both, and as workflow / baseline ratios: the system time per application (the
stages the applicant waits for: start, identity, decision, contract, payout; not their own
uploads) and the throughput at the given concurrency. The sides take turns in rounds
(baseline first in even rounds, the workflow first in odd ones) so a machine that gets busier
or quieter during the run does not favour one side. Every challenge video is rendered before
anything is timed (once, then cached under `.data/bench/`), the applicants' cards before the
stack starts; each side runs one application untimed first.

Prints the table and writes it to BENCHMARKS.md (section `baseline`).
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import itertools
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import httpx

from bench.no_temporal import InProcess
from bench.no_temporal_application import AMOUNT, STAGES, TERM, run_application
from bench.report import update_section
from bench.stats import percentile
from bench.system import make_applicant
from config.settings import Settings
from devtools.applicant import FACES, Applicant, ApplicantSession
from devtools.stack import ROOT, Ports, Stack
from domain.enums import LivenessAction
from domain.identity import ActionWindow
from workers.vision import process_pool
from workflows.application import CHALLENGE_ACTIONS, CHALLENGE_WINDOW_SECONDS

VIDEO_CACHE = ROOT / ".data" / "bench" / "challenge-videos"
Actions = tuple[LivenessAction, ...]
Videos = dict[Actions, bytes]


# ---------------------------------------------------------------- documents, ahead of time


def windows_for(actions: Actions) -> list[ActionWindow]:
    """The windows the workflow issues for these actions (`_make_challenge`)."""
    step = CHALLENGE_WINDOW_SECONDS
    return [
        ActionWindow(action=a, start_s=i * step, end_s=(i + 1) * step)
        for i, a in enumerate(actions)
    ]


def render_video(photo: str, actions: Actions) -> bytes:
    from synthetic.challenge_video import synthesize_challenge_video

    return synthesize_challenge_video((FACES / photo).read_bytes(), windows_for(actions))


def challenge_videos(photo: str, cache: Path = VIDEO_CACHE, processes: int = 2) -> Videos:
    """A video for every challenge the workflow can issue (the applicants of `make_applicant`
    share one face), rendered once on every core and kept on disk for the next run."""
    digest = hashlib.sha256((FACES / photo).read_bytes()).hexdigest()[:16]
    folder = cache / digest
    folder.mkdir(parents=True, exist_ok=True)
    every = list(itertools.permutations(LivenessAction, CHALLENGE_ACTIONS))

    def path(actions: Actions) -> Path:
        return folder / ("-".join(a.value for a in actions) + ".mp4")

    missing = [a for a in every if not path(a).exists()]
    if missing:
        print(f"rendering {len(missing)} challenge videos (cached in {folder})", flush=True)
        with ProcessPoolExecutor(processes, mp_context=get_context("spawn")) as pool:
            rendered = pool.map(render_video, [photo] * len(missing), missing)
            for actions, video in zip(missing, rendered, strict=True):
                path(actions).write_bytes(video)
    return {a: path(a).read_bytes() for a in every}


class PreRenderedSession(ApplicantSession):
    """An applicant whose video for the issued challenge was rendered before the run."""

    def __init__(self, http: httpx.Client, applicant: Applicant, videos: Videos) -> None:
        super().__init__(http, applicant)
        self.videos = videos

    def liveness_video(self) -> bytes:
        windows = (self.challenge or {}).get("windows", [])
        return self.videos[tuple(LivenessAction(w["action"]) for w in windows)]


# ---------------------------------------------------------------- the two sides


@dataclass
class Batch:
    timings: list[dict[str, float]] = field(default_factory=list)
    elapsed: float = 0.0


def wait_until(
    session: ApplicantSession, status: str, poll: float, timeout: float = 600
) -> dict[str, Any]:
    """GET as a frontend would until the application is in `status`: held by the API while
    the status stays the same (long polling) when `poll` is 0, else asked every `poll` s."""
    view = session.wait_for(status, timeout=timeout, interval=poll or 0.1, hold=poll <= 0)
    if view["status"] != status:
        raise RuntimeError(f"{session.application_id} ended {view['status']}: {view}")
    return view


def through_workflow(
    api_url: str, person: Applicant, videos: Videos, poll: float
) -> dict[str, float]:
    """One application over HTTP; each stage from the applicant's request to the status that
    ends it (the request's own time included: the system is answering it)."""
    timings: dict[str, float] = {}
    with httpx.Client(base_url=api_url, timeout=120) as http:
        s = PreRenderedSession(http, person, videos)

        def timed(stage: str, step: Callable[[], Any], status: str) -> dict[str, Any]:
            started = time.perf_counter()
            step()
            view = wait_until(s, status, poll)
            timings[stage] = time.perf_counter() - started
            return view

        begun = time.perf_counter()
        timed("start", s.start, "AWAITING_DOCUMENTS")
        s.upload_all()  # the applicant's own step
        timed("identity", s.submit_documents, "AWAITING_CARRIER_AUTH")
        limit = timed("decision", s.authorize_carrier, "OFFERED")["offer"]["limit"]
        accept = partial(s.accept, amount=min(AMOUNT, limit), term=TERM)
        timed("contract", accept, "AWAITING_SIGNATURE")
        timed("payout", s.sign, "DISBURSED")
        timings["total"] = time.perf_counter() - begun
    return timings


def workflow_batch(
    api_url: str, people: list[Applicant], videos: Videos, concurrency: int, poll: float
) -> Batch:
    started = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        runs = list(pool.map(lambda p: through_workflow(api_url, p, videos, poll), people))
    return Batch(runs, time.perf_counter() - started)


async def in_process(
    system: InProcess, person: Applicant, videos: Videos, seed: int
) -> dict[str, float]:
    begun = time.perf_counter()
    result = await run_application(system, person, videos, seed)
    if result.status != "DISBURSED":
        raise RuntimeError(f"{result.application_id} ended {result.status}")
    return result.timings | {"total": time.perf_counter() - begun}


async def baseline_batch(
    system: InProcess, people: list[Applicant], videos: Videos, concurrency: int, seed: int
) -> Batch:
    gate = asyncio.Semaphore(concurrency)

    async def one(k: int, person: Applicant) -> dict[str, float]:
        async with gate:
            return await in_process(system, person, videos, seed + k)

    started = time.perf_counter()
    runs = await asyncio.gather(*(one(k, p) for k, p in enumerate(people)))
    return Batch(list(runs), time.perf_counter() - started)


@dataclass
class Side:
    batches: list[Batch] = field(default_factory=list)

    @property
    def runs(self) -> list[dict[str, float]]:
        return [run for batch in self.batches for run in batch.timings]

    @property
    def system(self) -> list[float]:
        return [sum(run[stage] for stage in STAGES) for run in self.runs]

    @property
    def per_minute(self) -> float:
        return len(self.runs) / sum(b.elapsed for b in self.batches) * 60

    def mean(self, stage: str) -> float:
        return statistics.fmean(run[stage] for run in self.runs)


async def measure(
    args: argparse.Namespace, stack: Stack, people: list[Applicant], videos: Videos
) -> tuple[Side, Side]:
    settings = Settings(data_dir=stack.data_dir, mocks_url=stack.mocks_url, api_url=stack.api_url)
    baseline, workflow = Side(), Side()
    with process_pool(settings) as vision:
        async with InProcess.open(settings, vision) as system:
            await in_process(system, people.pop(), videos, args.seed)  # warm both sides
            await asyncio.to_thread(
                through_workflow, stack.api_url, people.pop(), videos, args.poll
            )
            sizes = [len(r) for r in split(list(range(args.applications)), args.rounds)]
            for r, n in enumerate(sizes):
                batch = [people.pop() for _ in range(2 * n)]
                mine, theirs = batch[:n], batch[n:]
                for side in ("baseline", "workflow") if r % 2 == 0 else ("workflow", "baseline"):
                    if side == "baseline":
                        seed = args.seed + 1000 * (r + 1)
                        done = await baseline_batch(system, mine, videos, args.concurrency, seed)
                        baseline.batches.append(done)
                    else:
                        done = await asyncio.to_thread(
                            workflow_batch, stack.api_url, theirs, videos, args.concurrency,
                            args.poll,
                        )  # fmt: skip
                        workflow.batches.append(done)
                    print(f"round {r + 1}: {side} {n} applications in {done.elapsed:.1f} s",
                          flush=True)  # fmt: skip
    return baseline, workflow


def split(items: list[int], parts: int) -> list[list[int]]:
    return [items[i::parts] for i in range(parts) if items[i::parts]]


# ---------------------------------------------------------------- the report


def table(baseline: Side, workflow: Side, concurrency: int) -> tuple[str, float, float]:
    def row(name: str, b: float, w: float, unit: str = "s") -> str:
        return f"| {name} | {b:.2f} {unit} | {w:.2f} {unit} | {w / b:.2f} |"

    b_sys, w_sys = baseline.system, workflow.system
    lines = [
        "| per application | baseline (no Temporal) | workflow (Temporal, API) | ratio |",
        "|---|---:|---:|---:|",
        row("**system time, mean**", statistics.fmean(b_sys), statistics.fmean(w_sys)),
        row("system time, p50", statistics.median(b_sys), statistics.median(w_sys)),
        row("system time, p95", percentile(b_sys, 0.95), percentile(w_sys, 0.95)),
    ]
    lines += [row(f"· {stage}, mean", baseline.mean(stage), workflow.mean(stage))
              for stage in STAGES]  # fmt: skip
    # identity is mostly vision CPU, the same work on both sides and the noisiest on a busy
    # machine; the other stages are where orchestration shows
    others = [stage for stage in STAGES if stage != "identity"]
    lines.append(row("system time outside identity, mean",
                     sum(baseline.mean(s) for s in others),
                     sum(workflow.mean(s) for s in others)))  # fmt: skip
    lines.append(row("whole application incl. the applicant's steps, mean",
                     baseline.mean("total"), workflow.mean("total")))  # fmt: skip
    lines.append(row(f"**throughput**, {concurrency} at a time", baseline.per_minute,
                     workflow.per_minute, "/min"))  # fmt: skip
    system_ratio = statistics.fmean(w_sys) / statistics.fmean(b_sys)
    return "\n".join(lines), system_ratio, workflow.per_minute / baseline.per_minute


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--applications", type=int, default=24, help="per side, at most 33")
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=2, help="turns the sides take")
    parser.add_argument(
        "--poll", type=float, default=0, help="the applicant's GET interval, s; 0: long polling"
    )
    parser.add_argument("--seed", type=int, default=12)
    parser.add_argument("--note", default="", help="said of the run in BENCHMARKS.md")
    args = parser.parse_args()
    if not 1 <= args.applications <= 33:
        parser.error("--applications: 1 to 33 (make_applicant has 70 distinct people)")
    with tempfile.TemporaryDirectory() as data:
        people_dir = Path(data) / "people"
        people_dir.mkdir()
        stack = Stack(data_dir=Path(data), ports=Ports.free(), ui=False)
        try:
            stack.start()
            people = [make_applicant(k, people_dir, stack.mocks_url)
                      for k in range(2 * args.applications + 2)]  # fmt: skip
            photos = {p.video_photo for p in people}
            assert len(photos) == 1 and None not in photos
            videos = challenge_videos(str(photos.pop()))
            load_before = os.getloadavg()
            baseline, workflow = asyncio.run(measure(args, stack, people, videos))
            load_after = os.getloadavg()
        finally:
            stack.stop()
    rows, system_ratio, throughput_ratio = table(baseline, workflow, args.concurrency)
    body = report(args, rows, system_ratio, throughput_ratio, load_before, load_after)
    print(body)
    update_section(
        "baseline", "Orchestration cost: the workflow against the same code without Temporal",
        body, command(args),
    )  # fmt: skip


def polling(poll: float) -> str:
    if poll > 0:
        return (
            f"polling GET every {poll:g} s, so each of the five stage times includes on average "
            "half a poll interval that the baseline does not have"
        )
    return (
        "its GET held by the API until the status moves (`?since=…&wait=10`, long polling: "
        "the API watches the store's projection, `api.watch`, and asks the workflow once it moved)"
    )


def command(args: argparse.Namespace) -> str:
    return (
        f"python -m bench.baseline --applications {args.applications} "
        f"--concurrency {args.concurrency} --rounds {args.rounds} --poll {args.poll}"
    )


def report(
    args: argparse.Namespace,
    rows: str,
    system_ratio: float,
    throughput_ratio: float,
    load_before: tuple[float, float, float],
    load_after: tuple[float, float, float],
) -> str:
    def verdict(ok: bool) -> str:
        return "met" if ok else "**not met**"

    return (
        f"{args.applications} applications per side, {args.concurrency} at a time, in "
        f"{args.rounds} rounds taking turns; SQLite store, simulators on this machine. "
        f"Load average (1 min) {load_before[0]:.1f} before and {load_after[0]:.1f} after "
        "(2 cores: above 2, other work was competing for the CPU). "
        f"{args.note}\n\n"
        f"{rows}\n\n"
        f"System time ratio **{system_ratio:.2f}** "
        f"(target ≤ 1.15: {verdict(system_ratio <= 1.15)}); "
        f"throughput ratio **{throughput_ratio:.2f}** (target ≥ 0.85: "
        f"{verdict(throughput_ratio >= 0.85)}).\n\n"
        "*Baseline*: `bench/no_temporal_application.py`, one process, the activity classes built "
        "as the workers build them and called as plain async functions in the workflow's order "
        "(card, liveness and identity vendor in parallel, then the face match; the same store "
        "projections), the vision activities in a process pool of the vision worker's size; the "
        "carrier report polled with the workflow's back-off, the payout settled by the "
        "gateway's signed callback to an in-process receiver. No durability, no retries, no "
        "history: what a team without a workflow engine would write first. *Workflow*: the "
        "real processes (dev server, worker, vision worker, API), the applicant over HTTP, "
        f"{polling(args.poll)}. A stage runs from the "
        "applicant's request to the status that ends it: start (→ AWAITING_DOCUMENTS), identity "
        "(documents submitted → AWAITING_CARRIER_AUTH), decision (SMS and code → OFFERED), "
        "contract (offer accepted → AWAITING_SIGNATURE), payout (signed → DISBURSED). The "
        "applicant's uploads are theirs, not the system's; every video was rendered before the "
        "run. Identity is mostly vision CPU, the same work on both sides and the noisiest figure "
        "when other work shares the cores; the row outside identity is where the orchestration "
        "shows.\n\n"
    )


if __name__ == "__main__":
    main()
