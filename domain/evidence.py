"""What a reviewer sees of the identity checks, as recorded in the audit trail (flat fields, as
audit data is): the card's fields with the name and ID number masked (`card_*`), and the liveness
verdict per challenged action (`liveness_<n>_action`, `liveness_<n>_seen`)."""

from __future__ import annotations

from domain.identity import IdCardFields, LivenessChallenge, LivenessResult
from domain.idnumber import mask_id_number

Flat = dict[str, str | int | float | bool | None]


def mask_name(name: str) -> str:
    return name[:1] + "*" * (len(name) - 1) if name else ""


def card_evidence(fields: IdCardFields | None) -> Flat:
    if fields is None:
        return {"card_read": False}
    if fields.long_term:
        valid_until: str | None = "长期"
    else:
        valid_until = fields.valid_until.isoformat() if fields.valid_until else None
    found: Flat = {
        "read": True,
        "name": mask_name(fields.name or ""),
        "id_number": mask_id_number(fields.id_number or ""),
        "sex": fields.sex,
        "ethnicity": fields.ethnicity,
        "birth_date": fields.birth_date.isoformat() if fields.birth_date else None,
        "issuing_authority": fields.issuing_authority,
        "valid_from": fields.valid_from.isoformat() if fields.valid_from else None,
        "valid_until": valid_until,
        "lowest_confidence": (
            round(min(fields.confidence.values()), 3) if fields.confidence else None
        ),
    }
    return {f"card_{key}": value for key, value in found.items()}


def liveness_evidence(liveness: LivenessResult, challenge: LivenessChallenge) -> Flat:
    """Each challenged action with whether it was seen, in order (the check requires order)."""
    seen = list(liveness.actions_seen)
    out: Flat = {
        "liveness_passed": liveness.passed,
        "liveness_spoof_score": liveness.spoof_score,
        "liveness_frames_sampled": liveness.frames_sampled,
        "liveness_frames_with_one_face": liveness.frames_with_one_face,
    }
    for n, window in enumerate(challenge.windows, start=1):
        found = window.action in seen
        if found:
            seen = seen[seen.index(window.action) + 1 :]
        out[f"liveness_{n}_action"] = window.action.value
        out[f"liveness_{n}_window"] = f"{window.start_s:g}-{window.end_s:g} s"
        out[f"liveness_{n}_seen"] = found
    return out
