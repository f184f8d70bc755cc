"""Carrier data vendor client (运营商授权): SMS code, authorization, asynchronous report."""

from __future__ import annotations

from pydantic import BaseModel

from domain.carrier import CarrierReport, CarrierSmsResult
from vendors.base import VendorClient, VendorError

WRONG_CODE = "WRONG_CODE"


class _SmsBody(BaseModel):
    sent: bool
    expires_in: int


class _AuthorizeBody(BaseModel):
    task_id: str


class CarrierClient(VendorClient):
    vendor = "carrier"

    async def send_sms(self, phone: str) -> CarrierSmsResult:
        route = "POST /carrier/v1/sms"
        response = await self.request("POST", "/carrier/v1/sms", route=route, json={"phone": phone})
        body = self.parse(_SmsBody, route, response)
        return CarrierSmsResult(sent=body.sent, detail=f"expires in {body.expires_in} s")

    async def authorize(self, phone: str, name: str, id_number: str, code: str) -> str | None:
        """The report task id, or None when the code is wrong."""
        route = "POST /carrier/v1/authorize"
        try:
            response = await self.request(
                "POST",
                "/carrier/v1/authorize",
                route=route,
                json={"phone": phone, "name": name, "id_number": id_number, "code": code},
            )
        except VendorError as exc:
            if exc.code == WRONG_CODE:
                return None
            raise
        return self.parse(_AuthorizeBody, route, response).task_id

    async def fetch_report(self, task_id: str) -> CarrierReport | None:
        """The report, or None while the vendor is still producing it (202)."""
        route = "GET /carrier/v1/reports/{task_id}"
        response = await self.request(
            "GET", f"/carrier/v1/reports/{task_id}", route=route, accept=(200, 202)
        )
        if response.status_code == 202:
            return None
        return self.parse(CarrierReport, route, response)
