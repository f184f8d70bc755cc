"""Ready test applicants for partner teams: a distinct person per serial number whose documents
the system accepts — both ID card sides rendered with the person's own ID number, a selfie, the
reference portrait the identity simulator holds, and, for a given liveness challenge, a video of
the person performing it. The bureau bucket encoded in the ID number chooses the outcome the
simulators produce (`approve` → a good file, `review` → the grey zone, `decline` → a current
overdue: rejected at the decision)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from domain.identity import ActionWindow
from domain.idnumber import make_id_number

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "samples"
FACES = ROOT / "assets" / "faces"

# outcome → (sample person whose photos are used, bureau bucket: ID number digits 15-16)
OUTCOMES = {"approve": ("approve", 1), "review": ("review", 73), "decline": ("approve", 80)}
SERIALS = 5000


@dataclass(frozen=True)
class TestApplicant:
    outcome: str
    name: str
    id_number: str
    phone: str
    card_number: str
    bank_code: str
    id_front_jpeg: bytes
    id_back_jpeg: bytes
    selfie_jpeg: bytes
    reference_portrait_jpeg: bytes
    video_photo: bytes


def luhn_complete(digits: str) -> str:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch) * (2 if i % 2 == 0 else 1)
        total += d - 9 if d > 9 else d
    return digits + str((10 - total % 10) % 10)


def make_test_applicant(outcome: str, serial: int) -> TestApplicant:
    """The applicant numbered `serial` (0 ≤ serial < 5000) for the outcome."""
    from synthetic.id_cards import CardHolder, card_back, card_front, jpeg, portrait

    if outcome not in OUTCOMES:
        raise ValueError(f"outcome must be one of {sorted(OUTCOMES)}")
    if not 0 <= serial < SERIALS:
        raise ValueError(f"serial must be in [0, {SERIALS})")
    sample, bucket = OUTCOMES[outcome]
    base = json.loads((SAMPLES / "manifest.json").read_text())[sample]
    # A distinct birth date per serial gives a distinct ID number in the same bureau bucket;
    # born 1981-1994: aged 25-55 (the policy's range) for any application date to 2035.
    born = date(1981, 1, 1) + timedelta(days=serial)
    male = base["sex"] == "男"
    id_number = make_id_number("110101", born, bucket * 10 + (1 if male else 2))
    holder = CardHolder(
        name=base["name"], sex=base["sex"], ethnicity=base["ethnicity"], birth=born,
        address=base["address"], id_number=id_number, authority=base["issuing_authority"],
        valid_from=date.fromisoformat(base["valid_from"]),
        valid_until=date.fromisoformat(base["valid_until"]),
    )  # fmt: skip
    photos = base["photos"]
    front = card_front(holder, portrait(photos["card_portrait"]), serial)
    # Persona digits 8888: a payout that succeeds (mocks/PERSONAS.md).
    card_number = luhn_complete(f"622202{serial:08d}8888")
    return TestApplicant(
        outcome=outcome,
        name=holder.name,
        id_number=id_number,
        # Ending in 8: the carrier simulator's ordinary subscriber (mocks/PERSONAS.md).
        phone=f"137{(serial * 7919) % 10**7:07d}8",
        card_number=card_number,
        bank_code="ICBC",
        id_front_jpeg=jpeg(front, 88),
        id_back_jpeg=jpeg(card_back(holder, serial), 88),
        selfie_jpeg=(SAMPLES / sample / "selfie.jpg").read_bytes(),
        reference_portrait_jpeg=(FACES / photos["reference_portrait"]).read_bytes(),
        video_photo=(FACES / photos["video"]).read_bytes(),
    )


def challenge_video(applicant: TestApplicant, windows: list[ActionWindow], seed: int = 0) -> bytes:
    """An MP4 of the applicant performing the challenged actions in their windows."""
    from synthetic.challenge_video import synthesize_challenge_video

    return synthesize_challenge_video(applicant.video_photo, windows, seed=seed)
