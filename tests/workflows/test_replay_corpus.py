"""Every recorded history in `histories/` replays with the current workflow classes: a change
that would make a running application non-deterministic fails here (or must be guarded with
`workflow.patched`)."""

from __future__ import annotations

import pytest
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer

from tests.workflows.corpus import load_corpus
from workflows.application import LoanApplicationWorkflow
from workflows.payout import PayoutWorkflow

CORPUS = load_corpus()


def test_the_corpus_covers_the_main_paths() -> None:
    names = {name for name, _ in CORPUS}
    for path in (
        "approved_application_is_disbursed_once",
        "review_approved_with_a_lower_limit",
        "review_rejected",
        "review_can_ask_for_more_documents",
        "offer_expires",
        "withdrawal_cancels",
        "channel_error_then_success_on_another_channel",
        "invalid_card_then_a_new_card",
        "invalid_card_then_a_new_card.payout",
    ):
        assert path in names


@pytest.mark.parametrize("name", [name for name, _ in CORPUS])
async def test_recorded_history_replays(name: str) -> None:
    history = dict(CORPUS)[name]
    replayer = Replayer(
        workflows=[LoanApplicationWorkflow, PayoutWorkflow], data_converter=pydantic_data_converter
    )
    result = await replayer.replay_workflow(history, raise_on_replay_failure=False)
    assert result.replay_failure is None, f"{name}: {result.replay_failure}"
