"""Who applies in a load or chaos run, and how they behave: a seeded plan, pure and cheap, so the
mix is the same on every run of the same seed and can be tested without the stack.

Behaviours, with the outcome each should reach:
- `complete`: a good bureau file; documents, carrier, offer, signature → DISBURSED
- `retake`: uploads a liveness video of the wrong actions first (refused, I007), then the right
  one → DISBURSED
- `review`: a grey-zone file → MANUAL_REVIEW; the simulated reviewer approves → DISBURSED
- `decline`: a current overdue at the bureau → REJECTED at the decision
- `abandon_documents`: starts, uploads part of the documents and leaves → AWAITING_DOCUMENTS
- `abandon_offer`: leaves at the offer → OFFERED
- `withdraw`: withdraws at the offer → CANCELLED
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from enum import StrEnum


class Behaviour(StrEnum):
    COMPLETE = "complete"
    RETAKE = "retake"
    REVIEW = "review"
    DECLINE = "decline"
    ABANDON_DOCUMENTS = "abandon_documents"
    ABANDON_OFFER = "abandon_offer"
    WITHDRAW = "withdraw"


# The outcome of the simulators' persona each behaviour needs (synthetic.test_applicants).
PERSONA = {
    Behaviour.REVIEW: "review",
    Behaviour.DECLINE: "decline",
}
EXPECTED = {
    Behaviour.COMPLETE: "DISBURSED",
    Behaviour.RETAKE: "DISBURSED",
    Behaviour.REVIEW: "DISBURSED",
    Behaviour.DECLINE: "REJECTED",
    Behaviour.ABANDON_DOCUMENTS: "AWAITING_DOCUMENTS",
    Behaviour.ABANDON_OFFER: "OFFERED",
    Behaviour.WITHDRAW: "CANCELLED",
}
DEFAULT_MIX = {
    Behaviour.COMPLETE: 0.45,
    Behaviour.RETAKE: 0.10,
    Behaviour.REVIEW: 0.10,
    Behaviour.DECLINE: 0.05,
    Behaviour.ABANDON_DOCUMENTS: 0.10,
    Behaviour.ABANDON_OFFER: 0.10,
    Behaviour.WITHDRAW: 0.10,
}


@dataclass(frozen=True)
class Plan:
    index: int
    behaviour: Behaviour
    serial: int  # the person: a synthetic.test_applicants serial, distinct across personas
    arrival_s: float  # seconds after the run starts; 0 for all when running as fast as possible
    seed: int  # the applicant's own think times

    @property
    def persona(self) -> str:
        return PERSONA.get(self.behaviour, "approve")

    @property
    def expected(self) -> str:
        return EXPECTED[self.behaviour]


def parse_mix(text: str) -> dict[Behaviour, float]:
    """`complete=0.5,review=0.2,...`; behaviours not named get weight 0."""
    mix = {Behaviour(name.strip()): float(w) for name, w in
           (part.split("=") for part in text.split(",") if part.strip())}  # fmt: skip
    if not mix or min(mix.values()) < 0 or sum(mix.values()) <= 0:
        raise ValueError("a mix needs non-negative weights summing to more than 0")
    return mix


def plan_population(
    count: int,
    seed: int,
    mix: dict[Behaviour, float] | None = None,
    rate_per_minute: float | None = None,
    first_serial: int = 0,
) -> list[Plan]:
    """`count` applicants: behaviours drawn by largest remainder (so a small run still shows the
    mix), shuffled by the seed; Poisson arrivals at `rate_per_minute`, or all at once."""
    mix = mix or DEFAULT_MIX
    total = sum(mix.values())
    quotas = {b: count * w / total for b, w in mix.items()}
    counts = {b: int(q) for b, q in quotas.items()}
    by_remainder = sorted(mix, key=lambda b: (counts[b] - quotas[b], list(mix).index(b)))
    for b in by_remainder[: count - sum(counts.values())]:
        counts[b] += 1
    rng = random.Random(seed)
    behaviours = [b for b in mix for _ in range(counts[b])]
    rng.shuffle(behaviours)
    arrivals, t = [], 0.0
    for _ in behaviours:
        arrivals.append(t)
        if rate_per_minute:
            t += rng.expovariate(rate_per_minute / 60)
    # One serial per applicant whatever the persona: the test applicants of two outcomes with the
    # same serial share a phone and a bank card, and a rejection of one would put the other in
    # the re-application cool-down (P004).
    pairs = enumerate(zip(behaviours, arrivals, strict=True))
    return [Plan(i, b, first_serial + i, at, rng.randrange(2**32)) for i, (b, at) in pairs]
