"""Bank-card four-factor client (银行卡四要素): name, ID number, card, reserved phone."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel

from vendors.base import VendorClient


class CardResult(StrEnum):
    MATCH = "MATCH"
    MISMATCH = "MISMATCH"
    CARD_INVALID = "CARD_INVALID"


class CardVerification(BaseModel):
    request_id: str
    result: CardResult
    bank_code: str | None = None


class BankCardClient(VendorClient):
    vendor = "bankcard"

    async def verify(
        self, name: str, id_number: str, card_number: str, phone: str
    ) -> CardVerification:
        route = "POST /bankcard/v1/verify"
        response = await self.request(
            "POST",
            "/bankcard/v1/verify",
            route=route,
            json={"name": name, "id_number": id_number, "card_number": card_number, "phone": phone},
        )
        return self.parse(CardVerification, route, response)
