"""Load generator: a population of applicants through the HTTP API of the real processes (dev
server, both workers, mocks, API), behaving as people do (`bench.population`: most complete,
some retake a refused photo, some are reviewed by a simulated ops reviewer after a delay, some
are declined, some abandon at the documents or the offer, some withdraw).

    .venv/bin/python -m bench.load --applications 40 --rate 20          # Poisson, 20 a minute
    .venv/bin/python -m bench.load --applications 40 --concurrency 4    # as fast as 4 at a time

Documents and every possible liveness-challenge video are rendered before the stack starts
(cached in `.data/bench-cache/`), so the generator does not compete for the CPU it measures.
One warm-up application runs before measuring. Prints and writes to BENCHMARKS.md (section
`load`): per-stage latency p50/p95/p99 (`bench.journey` defines the stages), throughput, CPU
seconds per application of each stack process (from /proc, whole process sessions), and the
schedule-to-start latency of the vision task queue (from the workflows' histories).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import tempfile
from collections import Counter
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

from bench.journey import Journey, Pace
from bench.population import DEFAULT_MIX, Behaviour, parse_mix, plan_population
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
from bench.stats import latency_table
from bench.temporal_facts import collect
from devtools.procstat import session_cpu_seconds
from domain.naming import VISION_TASK_QUEUE, application_id_from_workflow_id

STAGES = ("start", "refusal", "identity", "decision", "review", "contract", "payout", "withdraw",
          "total")  # fmt: skip
QUANTILES = (0.95, 0.99)
# Behaviours whose documents go through identity verification, and how many times.
VERIFICATIONS = {Behaviour.RETAKE: 2, Behaviour.ABANDON_DOCUMENTS: 0}


@dataclass
class LoadFigures:
    journeys: list[Journey]
    elapsed_s: float
    cpu_s: dict[str, float]  # per process over the measured run
    generator_cpu_s: float
    vision_wait_s: list[float]
    render_note: str
    api_counts: dict[str, float]  # over the measured run, from the API's /metrics


def _self_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def measure(args: argparse.Namespace) -> LoadFigures:
    mix = parse_mix(args.mix) if args.mix else DEFAULT_MIX
    plans = plan_population(args.applications, args.seed, mix, args.rate)
    population = Population(plans)
    population.render()
    pace = Pace(think_s=args.think)
    with ExitStack() as cleanup:
        data = cleanup.enter_context(tempfile.TemporaryDirectory())
        env: dict[str, str] = {}
        if args.database == "postgres":
            search_path = cleanup.enter_context(postgres_schema(args.postgres))
            env["DATABASE_URL"] = with_query(args.postgres, search_path)
        stack = start_stack(Path(data), env)
        try:
            population.register(stack.mocks_url)
            warm_up(stack, population, pace)
            pids = {name: proc.pid for name, proc in stack.processes.items()}
            before, gen_before = session_cpu_seconds(set(pids.values())), _self_cpu()
            counts_before = api_counts(stack.api_url)
            journeys, elapsed = drive_population(
                stack.api_url, population, pace, None if args.rate else args.concurrency,
                args.review_delay,
            )  # fmt: skip
            after, gen_after = session_cpu_seconds(set(pids.values())), _self_cpu()
            counts_after = api_counts(stack.api_url)
            stack.check_alive()
            facts = asyncio.run(collect(stack.temporal_address))
        finally:
            stack.stop()
    measured = {j.application_id for j in journeys}
    waits = [w for f in facts if application_id_from_workflow_id(f.workflow_id) in measured
             for w in f.schedule_to_start.get(VISION_TASK_QUEUE, [])]  # fmt: skip
    note = (f"{population.rendered} files rendered before the stack started "
            f"({population.render_s:.0f} s; the rest from the cache), "
            f"{population.library.rendered_during_run} during the run")  # fmt: skip
    return LoadFigures(
        journeys=journeys, elapsed_s=elapsed,
        cpu_s={name: after[pid] - before[pid] for name, pid in pids.items()},
        generator_cpu_s=gen_after - gen_before, vision_wait_s=waits, render_note=note,
        api_counts={k: counts_after[k] - counts_before[k] for k in counts_after},
    )  # fmt: skip


def report(args: argparse.Namespace, f: LoadFigures) -> str:
    n = len(f.journeys)
    samples: dict[str, list[float]] = {}
    for j in f.journeys:
        if j.as_expected:
            for stage, seconds in j.stages.items():
                samples.setdefault(stage, []).append(seconds)
    behaviours = Counter(j.plan.behaviour for j in f.journeys)
    reached = Counter(j.plan.behaviour for j in f.journeys if j.as_expected)
    verifications = sum(VERIFICATIONS.get(j.plan.behaviour, 1) for j in f.journeys)
    disbursed = sum(j.status == "DISBURSED" for j in f.journeys)
    arrival = f"Poisson arrivals at {args.rate:g} a minute" if args.rate else \
        f"{args.concurrency} applicants at a time, as fast as possible"  # fmt: skip
    mix = ", ".join(f"{b} {reached[b]}/{behaviours[b]}" for b in Behaviour if behaviours[b])
    lines = [
        f"{n} applicants, {arrival}, think time {args.think:g} s mean between steps, reviewer "
        f"delay {args.review_delay:g} s, {args.database} store, seed {args.seed}; one worker "
        f"and one vision worker. **{n / f.elapsed_s * 60:.1f} applications a minute** handled "
        f"({disbursed / f.elapsed_s * 60:.1f} disbursed a minute) over {f.elapsed_s:.0f} s.",
        "",
        f"Behaviours (reached the expected outcome / planned): {mix}.",
        "",
        *latency_table(samples, STAGES, QUANTILES),
        "",
        "| process | CPU s | CPU s per application | per identity check |",
        "|---|---|---|---|",
    ]
    for name, cpu in f.cpu_s.items():
        per_check = f"{cpu / verifications:.2f}" if verifications else "-"
        lines.append(f"| {name} | {cpu:.1f} | {cpu / n:.2f} | {per_check} |")
    lines.append(f"| load generator | {f.generator_cpu_s:.1f} | {f.generator_cpu_s / n:.2f} | |")
    lines += ["", _cpu_limit(args, f, n), ""]
    gets, queries = f.api_counts["status GETs"], f.api_counts["status queries"]
    lines += [
        f"The API answered {gets:.0f} status GETs ({gets / n:.1f} per application, "
        f"{gets / f.elapsed_s:.1f} a second) and asked the workflows {queries:.0f} live status "
        f"queries ({queries / n:.1f} per application, {queries / f.elapsed_s:.1f} a second).",
        "",
    ]
    if f.vision_wait_s:
        lines += latency_table({"vision schedule-to-start": f.vision_wait_s},
                               ["vision schedule-to-start"], QUANTILES)  # fmt: skip
        lines.append("")
    failures = [j for j in f.journeys if not j.as_expected]
    for j in failures[:10]:
        lines.append(f"- {j.plan.behaviour} {j.application_id}: ended {j.status} {j.error}")
    if failures:
        lines.append("")
    lines += [
        f"Stage latencies over the {n - len(failures)} applicants that reached their expected "
        "outcome, "
        "system time only (the applicant's thinking excluded); the app waits with a held GET "
        "(`?since=…&wait=10`, long polling). `review` "
        "includes the reviewer's delay. CPU from /proc over the measured run (the warm-up "
        f"excluded), each process with its children; {verifications} identity checks. Vision "
        "schedule-to-start from the histories (scheduled → started, per activity). Documents: "
        f"{f.render_note}.",
    ]
    return "\n".join(lines)


def _cpu_limit(args: argparse.Namespace, f: LoadFigures, n: int) -> str:
    """What the stack's CPU per application allows on this machine's cores, and the share of it
    reached (meaningful only as fast as possible: at a rate, the arrivals bound the throughput)."""
    stack_cpu, cores = sum(f.cpu_s.values()), os.cpu_count() or 1
    if not stack_cpu:
        return ""
    limit = cores * 60 / (stack_cpu / n)
    line = (f"CPU-bound limit of this mix on {cores} cores: {limit:.1f} applications a minute "
            f"(the stack's {stack_cpu / n:.2f} CPU s per application)")  # fmt: skip
    if args.rate:
        return line + "; at this arrival rate the arrivals bound the throughput."
    share = n / f.elapsed_s * 60 / limit
    return line + f"; measured {share:.0%} of it (other users' processes take CPU too on a " \
        "shared machine)."  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--applications", type=int, default=40)
    parser.add_argument("--rate", type=float, default=None, help="arrivals per minute (Poisson)")
    parser.add_argument("--concurrency", type=int, default=4, help="without --rate")
    parser.add_argument("--seed", type=int, default=12)
    parser.add_argument("--mix", default="", help="e.g. complete=0.6,review=0.2,withdraw=0.2")
    parser.add_argument("--think", type=float, default=1.0, help="mean seconds between steps")
    parser.add_argument("--review-delay", type=float, default=5.0)
    parser.add_argument("--database", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--postgres", default=DEFAULT_POSTGRES)
    parser.add_argument("--note", default="", help="a line added to the written section")
    parser.add_argument("--section", default="load", help="of BENCHMARKS.md (one per regime)")
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args()
    body = report(args, measure(args))
    if args.note:
        body = f"{args.note}\n\n{body}"
    print(body)
    if not args.no_write:
        command = " ".join(["python -m bench.load", f"--applications {args.applications}",
                            f"--rate {args.rate:g}" if args.rate else
                            f"--concurrency {args.concurrency}", f"--seed {args.seed}",
                            f"--think {args.think:g}", f"--review-delay {args.review_delay:g}",
                            f"--database {args.database}"])  # fmt: skip
        if args.mix:
            command += f" --mix {args.mix}"
        title = "Load: a population of applicants through the API"
        if args.section != "load":
            title += f" ({args.section.removeprefix('load-').replace('-', ' ')})"
            command += f" --section {args.section}"
        update_section(args.section, title, body, command)


if __name__ == "__main__":
    main()
