"""Credit bureau client (征信)."""

from __future__ import annotations

from domain.decision import BureauReport
from vendors.base import VendorClient


class BureauClient(VendorClient):
    vendor = "bureau"

    async def fetch_report(self, name: str, id_number: str) -> BureauReport:
        route = "POST /bureau/v1/reports"
        response = await self.request(
            "POST", "/bureau/v1/reports", route=route, json={"name": name, "id_number": id_number}
        )
        return self.parse(BureauReport, route, response)
