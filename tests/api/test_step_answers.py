"""A step answers with the application's status after it: the new-bank-card step, which the
stand-in workflows of test_api cannot reach (they never pay out), driven with a fake of the
workflow calls."""

from __future__ import annotations

from api.routes.applicant import provide_new_bank_card
from domain.enums import ApplicationStatus, NextAction
from domain.naming import UpdateName
from domain.offer import BankCard
from domain.payout import NewBankCardInput, NewBankCardResult
from domain.status import ApplicationView


class PaidOnTheNewCard:
    """The card is accepted by the update; the payout then completes on it."""

    def __init__(self) -> None:
        self.asked: list[tuple[str, ApplicationStatus]] = []

    async def update(self, application_id, name, message, result_type):
        assert name == UpdateName.PROVIDE_NEW_BANK_CARD
        return NewBankCardResult(accepted=True)

    async def status_after(self, application_id, before):
        self.asked.append((application_id, before))
        return ApplicationView(
            application_id=application_id,
            status=ApplicationStatus.DISBURSED,
            next_action=NextAction.NONE,
        )


async def test_a_new_bank_card_answers_the_status_after_the_step() -> None:
    workflows = PaidOnTheNewCard()
    card = BankCard(number="6222020200112233445", bank_code="ICBC", reserved_phone="13800138000")
    answer = await provide_new_bank_card(
        "app_1",
        NewBankCardInput(bank_card=card),
        workflows,  # type: ignore[arg-type]
    )
    assert (answer.accepted, answer.status) == (True, ApplicationStatus.DISBURSED)
    assert workflows.asked == [("app_1", ApplicationStatus.DISBURSING)]
