"""Run a mixed sample of applications through the whole system and write the funnel: the README's
chart. Every application is a partner-style test applicant driven over HTTP (the simulators'
test-applicant API and the public loan API); ops outcomes go through the ops API.

    python -m devtools.funnel_sample --out docs/funnel-sample.png     # 50 applications

The mix (of 50): withdrawn at documents, refused at the pre-screen (blacklisted device), identity
mismatch (a wrong name), withdrawn at carrier authorization, declined by the bureau rules, grey
zone approved or rejected by a reviewer, approved and paid out. Timeouts (EXPIRED) are not in the
mix: their waits last minutes to days.
"""

from __future__ import annotations

import argparse
import base64
import random
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx

from devtools.applicant import ops_client
from devtools.stack import Ports, Stack

TERMINAL = {"DISBURSED", "REJECTED", "EXPIRED", "CANCELLED", "FAILED"}
MIX = (
    ["withdraw_documents"] * 8
    + ["blacklisted"] * 6
    + ["wrong_name"] * 4
    + ["withdraw_carrier"] * 4
    + ["decline"] * 6
    + ["review_approve"] * 4
    + ["review_reject"] * 4
    + ["approve"] * 14
)


class Run:
    def __init__(self, stack: Stack, serial: int) -> None:
        self.stack, self.serial = stack, serial
        self.http = httpx.Client(timeout=600)

    def issue(self, outcome: str) -> dict[str, Any]:
        response = self.http.post(
            f"{self.stack.mocks_url}/admin/v1/test-applicants",
            json={"outcome": outcome, "serial": self.serial},
        )
        response.raise_for_status()
        return response.json()

    def start(self, person: dict[str, Any], fingerprint: str) -> None:
        body = {
            "client_request_id": f"sample-{self.serial}",
            "product_code": "CASH_STD",
            "phone": person["phone"],
            "requested_amount": random.Random(self.serial).choice([500_000, 1_000_000, 2_000_000]),
            "term_months": 12,
            "device": {"fingerprint": fingerprint, "ip": "10.2.3.4", "os": "Android 15"},
            "consents": {"privacy_policy": True, "credit_inquiry": True, "carrier_data": True},
        }
        started = self.http.post(f"{self.stack.api_url}/v1/applications", json=body).json()
        self.app_id = started["application_id"]
        self.auth = {"Authorization": f"Bearer {started['applicant_token']}"}
        self.challenge = started.get("liveness_challenge")

    def path(self, suffix: str = "") -> str:
        return f"{self.stack.api_url}/v1/applications/{self.app_id}{suffix}"

    def wait(self, *wanted: str, timeout: float = 600) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            status = self.http.get(self.path(), headers=self.auth).json()["status"]
            if status in wanted or status in TERMINAL:
                return status
            time.sleep(0.5)
        raise TimeoutError(f"{self.app_id} did not reach {wanted}")

    def documents(self, person: dict[str, Any], name: str) -> None:
        self.wait("AWAITING_DOCUMENTS")
        if self.challenge is None:
            self.challenge = self.http.get(self.path(), headers=self.auth).json()[
                "liveness_challenge"
            ]
        video = self.http.post(
            f"{self.stack.mocks_url}/admin/v1/test-applicants/{person['id_number']}/liveness-video",
            json={"windows": self.challenge["windows"]},
        ).content
        for kind, b64 in person["documents"].items():
            files = {"file": (f"{kind}.jpg", base64.b64decode(b64), "image/jpeg")}
            self.http.put(self.path(f"/documents/{kind}"), headers=self.auth, files=files)
        files = {"file": ("liveness.mp4", video, "video/mp4")}
        self.http.put(self.path("/documents/liveness_video"), headers=self.auth, files=files)
        body = {"full_name": name, "id_number": person["id_number"]}
        self.http.post(self.path("/documents/submit"), headers=self.auth, json=body)

    def carrier(self, person: dict[str, Any]) -> str:
        if self.wait("AWAITING_CARRIER_AUTH") != "AWAITING_CARRIER_AUTH":
            return "stopped"
        self.http.post(self.path("/carrier/sms"), headers=self.auth)
        code = {"code": person["carrier_sms_code"]}
        self.http.post(self.path("/carrier/authorize"), headers=self.auth, json=code)
        return self.wait("OFFERED", "MANUAL_REVIEW")

    def accept_and_sign(self, person: dict[str, Any]) -> str:
        offer = self.http.get(self.path(), headers=self.auth).json()["offer"]
        body = {
            "amount": min(offer["limit"], 1_000_000),
            "term_months": 12,
            "bank_card": person["bank_card"],
        }
        self.http.post(self.path("/offer/accept"), headers=self.auth, json=body)
        self.wait("AWAITING_SIGNATURE")
        self.http.post(self.path("/contract/sign"), headers=self.auth, json={"otp": "135790"})
        return self.wait("DISBURSED")

    def withdraw(self) -> None:
        self.http.post(self.path("/withdraw"), headers=self.auth, json={"reason": "sample"})


def one(stack: Stack, serial: int, kind: str) -> str:
    run = Run(stack, serial)
    outcome = {"decline": "decline", "review_approve": "review", "review_reject": "review"}
    person = run.issue(outcome.get(kind, "approve"))
    fingerprint = f"fp-sample-{serial}"
    if kind == "blacklisted":
        with ops_client(stack.api_url, "admin") as ops:
            entry = {"kind": "device", "value": fingerprint, "reason": "sample"}
            ops.post("/v1/ops/blacklist", json=entry).raise_for_status()
    run.start(person, fingerprint)
    if kind == "blacklisted":
        return run.wait("REJECTED")
    if kind == "withdraw_documents":
        run.wait("AWAITING_DOCUMENTS")
        run.withdraw()
        return run.wait("CANCELLED")
    name = "王小明" if kind == "wrong_name" else person["full_name"]
    run.documents(person, name)
    if kind == "wrong_name":
        return run.wait("REJECTED")
    if kind == "withdraw_carrier":
        run.wait("AWAITING_CARRIER_AUTH")
        run.withdraw()
        return run.wait("CANCELLED")
    status = run.carrier(person)
    if status == "MANUAL_REVIEW":
        with ops_client(stack.api_url, "reviewer") as ops:
            outcome_body = (
                {"outcome": "APPROVE"}
                if kind == "review_approve"
                else {"outcome": "REJECT", "reason_code": "R007"}
            )
            ops.post(f"/v1/ops/reviews/{run.app_id}", json=outcome_body)
        status = run.wait("OFFERED")
    if status == "OFFERED":
        return run.accept_and_sign(person)
    return status


def _safe(stack: Stack, serial: int, kind: str) -> str:
    try:
        return one(stack, serial, kind)
    except Exception as exc:  # one broken run must not lose the other 49
        print(f"sample {serial} ({kind}) failed: {exc!r}", flush=True)
        return "error"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", default="docs/funnel-sample.png")
    parser.add_argument("--concurrency", type=int, default=3)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    kinds = list(MIX)
    random.Random(args.seed).shuffle(kinds)
    with tempfile.TemporaryDirectory() as data:
        stack = Stack(data_dir=Path(data), ports=Ports.free(), ui=False)
        try:
            stack.start()
            with ThreadPoolExecutor(args.concurrency) as pool:
                results = list(
                    pool.map(lambda ik: _safe(stack, 1000 + ik[0], ik[1]), enumerate(kinds))
                )
            print({k: results.count(k) for k in set(results)})
            with ops_client(stack.api_url, "engineer") as ops:
                png = ops.get("/v1/ops/funnel.png").content
                rows = ops.get("/v1/ops/funnel").json()
            Path(args.out).write_bytes(png)
            from reports.funnel import StageRow, table

            print(table([_row(r, StageRow) for r in rows]))
            print(f"chart: {args.out}")
        finally:
            stack.stop()


def _row(data: dict[str, Any], cls: Any) -> Any:
    from collections import Counter

    fields = {k: v for k, v in data.items() if k not in ("rejected_by_reason", "median_seconds")}
    row = cls(**fields)
    row.rejected_by_reason = Counter(data["rejected_by_reason"])
    if data["median_seconds"] is not None:
        row.seconds = [data["median_seconds"]]
    return row


if __name__ == "__main__":
    main()
