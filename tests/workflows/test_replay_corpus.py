"""Every recorded history in `histories/` replays with the current workflow classes: a change
that would make a running application, credit line, draw or pre-credit batch non-deterministic
fails here (or must be guarded with `workflow.patched`)."""

from __future__ import annotations

import pytest
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer

from tests.workflows.corpus import load_corpus
from workflows.application import LoanApplicationWorkflow
from workflows.credit_line import CreditLineWorkflow
from workflows.draw import DrawWorkflow
from workflows.payout import PayoutWorkflow
from workflows.precredit import PreCreditBatchWorkflow

CORPUS = load_corpus()
WORKFLOWS = [
    LoanApplicationWorkflow,
    PayoutWorkflow,
    CreditLineWorkflow,
    DrawWorkflow,
    PreCreditBatchWorkflow,
]


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


def test_the_corpus_covers_the_credit_line_draw_and_pre_credit_paths() -> None:
    names = {name for name, _ in CORPUS}
    for path in (
        # a line opened by a revolving application, its payout the first draw
        "a_revolving_product_opens_a_line_with_the_payout_as_its_first_draw",
        "a_revolving_product_opens_a_line_with_the_payout_as_its_first_draw.line",
        # a draw disbursed, a repayment, a second draw up to the restored limit
        "draw_repay_and_draw_again_up_to_the_restored_limit.line",
        "draw_repay_and_draw_again_up_to_the_restored_limit.draw",
        "draw_repay_and_draw_again_up_to_the_restored_limit.draw-2",
        "draw_repay_and_draw_again_up_to_the_restored_limit.payout",
        "a_refused_card_ends_the_draw_at_once_with_its_reason.draw",
        # a scheduled instalment debited
        "instalments_are_debited_on_their_due_date_once.line",
        # monitoring: a limit lowered, a line frozen and unfrozen, a limit raised
        "a_bureau_alert_lowers_the_limit_with_its_reason.line",
        "missed_instalment_overdue_frozen_then_repaid_and_unfrozen.line",
        "six_on_time_instalments_raise_the_limit_by_policy.line",
        # an early settlement
        "early_settlement_pays_interest_to_date_once_and_restores_the_limit.line",
        # ends of a line, and a run continued as new
        "an_unused_approval_expires.line",
        "ops_close_a_line_only_once_nothing_is_owed.line",
        "continue_as_new_keeps_the_whole_state.line",
        # a pre-credit batch
        "a_batch_scores_every_chunk_once_a_few_at_a_time_and_sums_them.batch",
    ):
        assert path in names, path


@pytest.mark.parametrize("name", [name for name, _ in CORPUS])
async def test_recorded_history_replays(name: str) -> None:
    history = dict(CORPUS)[name]
    replayer = Replayer(workflows=WORKFLOWS, data_converter=pydantic_data_converter)
    result = await replayer.replay_workflow(history, raise_on_replay_failure=False)
    assert result.replay_failure is None, f"{name}: {result.replay_failure}"
