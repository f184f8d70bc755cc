"""Stage 7, offer acceptance: the bank card's four-factor check (name, ID number, card number,
reserved phone) before the card is bound."""

from __future__ import annotations

from temporalio import activity

from activities.vendor_errors import vendor_call
from domain.naming import ActivityName
from domain.offer import BankCardCheckInput, BankCardCheckResult
from vendors.bankcard import BankCardClient, CardResult


class BankCardActivities:
    def __init__(self, client: BankCardClient) -> None:
        self._client = client

    @activity.defn(name=ActivityName.BANKCARD_VERIFY)
    @vendor_call
    async def verify(self, inp: BankCardCheckInput) -> BankCardCheckResult:
        answer = await self._client.verify(
            inp.applicant.full_name,
            inp.applicant.id_number,
            inp.card.number,
            inp.card.reserved_phone,
        )
        activity.logger.info("card check for %s: %s", inp.application_id, answer.result)
        detail = answer.result.value
        if answer.bank_code and answer.bank_code != inp.card.bank_code:
            # the issuer decides where the money can go; a mislabelled bank is worth a note only
            detail += f" (issuer {answer.bank_code})"
        return BankCardCheckResult(verified=answer.result is CardResult.MATCH, detail=detail)
