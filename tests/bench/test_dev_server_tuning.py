"""The dev-server tuning bench runs the stack's dev server with and without its flags, and the
flags shorten the wait of a workflow task for the history service's throttled transfer queue
reads (20 a second by default)."""

from __future__ import annotations

import pytest

from bench import dev_server_tuning
from bench.dev_server_tuning import Figures, report


def test_the_report_has_a_row_per_configuration() -> None:
    figures = Figures(one_ms=230.0, four_ms=140.0, server_ms=9.5, dispatch_ms=3.1)
    text = report(4, {"defaults": figures, "tuned": figures})
    assert "| defaults | 230 | 140 | 9.5 | 3.1 |" in text
    assert "| tuned |" in text


@pytest.mark.slow
def test_the_stacks_flags_shorten_the_wait_for_a_workflow_task() -> None:
    untuned = dev_server_tuning.run_configuration(False, 4)
    tuned = dev_server_tuning.run_configuration(True, 4)
    assert tuned.dispatch_ms < untuned.dispatch_ms
    assert tuned.one_ms < untuned.one_ms
