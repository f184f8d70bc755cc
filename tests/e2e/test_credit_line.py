"""After the first loan, over the real processes (dev server, both workers, mocks, API): a
customer pre-approved by the scheduled pre-credit batch applies for the revolving product, is
decided against the pre-approval, gets a line whose first draw is the application's payout,
draws twice more and repays."""

from __future__ import annotations

import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from sqlmodel import Session

from devtools.applicant import Applicant, ApplicantSession, ops_client
from devtools.stack import ROOT, Ports, Stack
from domain.precredit import PreCreditCustomer
from mocks.personas import DEMO_APPROVE
from store.db import make_engine
from store.precredit import valid_pre_approval
from synthetic.precredit import customers, write_csv

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory, database_url: str) -> Iterator[Stack]:
    system = Stack(
        data_dir=tmp_path_factory.mktemp("stack"),
        ports=Ports.free(),
        ui=False,
        extra_env={"DATABASE_URL": database_url},
    )
    try:
        system.start()
        yield system
    finally:
        system.stop()


def wait(check, what: str, timeout: float = 120):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.25)
    raise TimeoutError(what)


def test_pre_approved_customer_gets_a_line_draws_twice_and_repays(
    stack: Stack, database_url: str, tmp_path: Path
) -> None:
    phone = f"136{uuid.uuid4().int % 10**7:07d}8"
    person = PreCreditCustomer(
        customer_id="cust-demo",
        full_name=DEMO_APPROVE.name,
        id_number=DEMO_APPROVE.id_number,
        phone=phone,
        product_code="CASH_LINE",
    )
    source = write_csv(tmp_path / "customers.csv", [person, *customers(20, seed=7)])
    subprocess.run(
        [sys.executable, "-m", "workers.schedules", "--source", str(source), "--trigger"],
        cwd=ROOT, env=stack.env(), check=True, timeout=60, capture_output=True,
    )  # fmt: skip
    engine = make_engine(database_url)

    def pre_approved():  # type: ignore[no-untyped-def]
        with Session(engine) as session:
            return valid_pre_approval(session, person.id_number, "CASH_LINE", datetime.now(UTC))

    pre = wait(pre_approved, "pre-approval written by the scheduled batch", 120)
    engine.dispose()

    with httpx.Client(base_url=stack.api_url, timeout=60) as http:
        session = ApplicantSession(http, Applicant.from_persona(DEMO_APPROVE, "approve", phone))
        session.start(amount=1_000_000, term=12, product="CASH_LINE")
        session.wait_for("AWAITING_DOCUMENTS")
        session.upload_all()
        session.submit_documents()
        session.wait_for("AWAITING_CARRIER_AUTH", timeout=300)
        session.authorize_carrier()
        offered = session.wait_for("OFFERED", timeout=120)
        assert offered["status"] == "OFFERED", offered
        assert offered["offer"]["limit"] == pre.credit_limit  # decided against the pre-approval
        session.accept(amount=500_000, term=6)
        session.wait_for("AWAITING_SIGNATURE")
        session.sign()
        assert session.wait_for("DISBURSED", timeout=180)["status"] == "DISBURSED"
        with ops_client(stack.api_url) as ops:
            evidence = ops.get(f"/v1/ops/applications/{session.application_id}").json()
        decision = evidence["decisions"][0]
        assert "PRE_APPROVED" in decision["rules_fired"]

        line_url, me = (
            f"/v1/lines/{session.application_id}",
            {"Authorization": f"Bearer {session.token}"},
        )
        line = wait(
            lambda: (r := http.get(line_url, headers=me)).status_code == 200 and r.json(),
            "line opened",
        )
        assert line["status"] == "ACTIVE" and line["limit"] == pre.credit_limit
        assert line["outstanding_principal"] == 500_000

        for n, amount in enumerate((300_000, 200_000), start=1):
            quote = http.post(
                f"{line_url}/quotes", json={"amount": amount, "term_months": 3}, headers=me
            ).json()
            drawn = http.post(
                f"{line_url}/draws",
                json={"amount": amount, "term_months": 3, "reference": f"e2e-draw-{n}"},
                headers=me,
            )
            assert drawn.status_code == 201, drawn.text
            draw = drawn.json()
            assert draw["schedule"] == quote
            draw_url = f"{line_url}/draws/{draw['draw_id']}"
            wait(
                lambda u=draw_url: http.get(u, headers=me).json()["stage"] == "AWAITING_SIGNATURE",
                "draw contract ready",
            )
            signed = http.post(f"{draw_url}/sign", json={"otp": "135790"}, headers=me)
            assert signed.json()["signed"], signed.text
            wait(
                lambda u=draw_url: http.get(u, headers=me).json()["stage"] == "DISBURSED",
                "draw paid out",
                180,
            )
        line = wait(
            lambda: (
                (v := http.get(line_url, headers=me).json())["outstanding_principal"] == 1_000_000
                and v
            ),
            "both draws booked",
        )
        assert line["available"] == pre.credit_limit - 1_000_000
        orders = httpx.get(f"{stack.mocks_url}/admin/v1/payouts", timeout=10).json()
        rows = orders["orders"] if isinstance(orders, dict) else orders
        mine = [
            o for o in rows if o["idempotency_key"].startswith(f"payout-draw-{line['line_id']}")
        ]
        assert sorted(o["succeeded_attempts"] for o in mine) == [1, 1]

        paid = http.post(
            f"{line_url}/repayments", json={"amount": 150_000, "reference": "e2e-pay-1"}, headers=me
        )
        assert paid.status_code == 200, paid.text
        assert paid.json()["principal"] > 0
        after = http.get(line_url, headers=me).json()
        assert after["available"] == line["available"] + paid.json()["principal"]
        collected = httpx.get(
            f"{stack.mocks_url}/admin/v1/debits/{DEMO_APPROVE.card_number}", timeout=10
        ).json()
        assert collected["settled_total"] == 150_000
        with ops_client(stack.api_url) as ops:
            audit = ops.get(f"/v1/ops/lines/{line['line_id']}").json()["events"]
        assert [e["event"] for e in audit].count("DRAW_DISBURSED") == 2
    stack.check_alive()
