"""How the load generator's applicant waits: a held GET while the workflow answers; when the API
answers from the store (`live: false`, the workflow too busy or restarting), a plain GET after a
pause that doubles up to `QUIET_S`, not five times a second."""

from __future__ import annotations

from typing import Any

import pytest

from bench import journey
from bench.journey import POLL_S, QUIET_S, Driver, Journey, Pace


class Scripted(Driver):
    """A driver whose GETs answer from a script, recording what was asked."""

    def __init__(self, views: list[dict[str, Any]]) -> None:
        self.pace = Pace(stage_timeout_s=600)
        self.journey = Journey(plan=None)  # type: ignore[arg-type]
        self.views = views
        self.asked: list[tuple[str | None, float]] = []

    def _status(self, since: str | None = None, wait: float = 0) -> dict[str, Any]:
        self.asked.append((since, wait))
        self.view = self.views.pop(0)
        return self.view


def test_answers_from_the_store_are_asked_again_after_a_growing_pause(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    pauses: list[float] = []
    monkeypatch.setattr(journey.time, "sleep", pauses.append)
    recorded = {"status": "VERIFYING_IDENTITY", "live": False}
    waiting = {"status": "VERIFYING_IDENTITY", "live": True}
    done = {"status": "AWAITING_CARRIER_AUTH", "live": True}
    driver = Scripted([waiting, waiting, *[recorded] * 6, waiting, done])
    view = driver._wait_for("AWAITING_CARRIER_AUTH")
    assert view is done
    # held while live; plain GETs (no `since`) while the store answers
    assert [since for since, _ in driver.asked] == [
        None, "VERIFYING_IDENTITY", "VERIFYING_IDENTITY", None, None, None, None, None, None,
        "VERIFYING_IDENTITY",
    ]  # fmt: skip
    # an unmoved live answer pauses POLL_S; the store's answers POLL_S, then doubling up to
    # QUIET_S; a live answer that moved (from no `since`) is asked again at once
    assert pauses == pytest.approx(
        [POLL_S, POLL_S, 2 * POLL_S, 4 * POLL_S, 8 * POLL_S, QUIET_S, QUIET_S], abs=0.05
    )
