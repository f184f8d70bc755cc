"""`make demo`: start the whole system on its embedded defaults and drive one sample application
to DISBURSED over HTTP, printing each stage; then keep the system running for the Web UI."""

from __future__ import annotations

import argparse
import os
import random
import signal
import socket
import sys
import time
from pathlib import Path

import httpx

from devtools.applicant import Applicant, ApplicantSession
from devtools.line_demo import drive_line
from devtools.stack import ROOT, Ports, Stack
from mocks.personas import DEMO_APPROVE


def say(text: str) -> None:
    print(text, flush=True)


def _busy(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def drive(api_url: str, ui_url: str) -> str:
    # A fresh phone number per run: the pre-screen's velocity rule would otherwise refuse the
    # fourth demo of the day from the same phone, as it should.
    phone = f"137{random.randrange(10**7):07d}8"
    applicant = Applicant.from_persona(DEMO_APPROVE, "approve", phone=phone)
    with httpx.Client(base_url=api_url, timeout=60) as http:
        session = ApplicantSession(http, applicant)
        started = session.start(amount=1_000_000, term=12, product="CASH_LINE")
        app_id = session.application_id
        say(f"\napplication {app_id} started ({started['status']})")
        actions = [w["action"] for w in (session.challenge or {}).get("windows", [])]
        say(f"  liveness challenge: {' -> '.join(actions)}")
        show = lambda view: say(f"  stage: {view['status']:<22} next: {view.get('next_action')}")  # noqa: E731
        session.wait_for("AWAITING_DOCUMENTS", on_change=show)
        session.upload_all()
        say("  uploaded ID card front and back, selfie, liveness video performing the challenge")
        session.submit_documents()
        view = session.wait_for("AWAITING_CARRIER_AUTH", timeout=300, on_change=show)
        session.authorize_carrier()
        say("  carrier data authorized with the SMS code")
        view = session.wait_for("OFFERED", "MANUAL_REVIEW", timeout=120, on_change=show)
        offer = view.get("offer") or {}
        if view["status"] != "OFFERED":
            raise SystemExit(f"demo stopped at {view['status']}: {view.get('reasons')}")
        say(f"  offer: limit {offer['limit'] / 100:,.2f} yuan, grade {offer['grade']}, "
            f"rate {offer['annual_rate']:.2%}, terms {offer['terms']}")  # fmt: skip
        amount = min(1_000_000, offer["limit"])
        accepted = session.accept(amount=amount, term=12)
        schedule = accepted.get("schedule") or {}
        say(f"  accepted {amount / 100:,.2f} yuan over 12 months, APR {schedule.get('apr', 0):.2%}")
        session.wait_for("AWAITING_SIGNATURE", on_change=show)
        session.sign()
        say("  contract signed with the e-sign OTP")
        final = session.wait_for("DISBURSED", timeout=180, on_change=show)
        say(f"\nfinal status: {final['status']}")
        if final["status"] == "DISBURSED":
            pdf = ROOT / ".data" / f"contract-{app_id}.pdf"
            pdf.write_bytes(session.contract())
            say(f"signed contract: {pdf}")
            drive_line(http, app_id, session.token, say)
    say(f"Web UI: {ui_url}/namespaces/default/workflows/loan-application-{app_id}")
    say(f"        {ui_url}/namespaces/default/workflows/credit-line-{app_id}")
    return str(final["status"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--exit", action="store_true", help="stop the system after the demo")
    args = parser.parse_args()
    ports = Ports()
    busy = [p for p in (ports.temporal, ports.ui, ports.api, ports.mocks) if _busy(p)]
    if busy:
        raise SystemExit(f"ports in use: {busy}; is another loanflow running? stop it first")
    stack = Stack(data_dir=Path(os.environ.get("LOANFLOW_DATA_DIR", ROOT / ".data")), ports=ports)
    say("starting: Temporal dev server (SQLite under .data/), mocks, API, worker, vision worker")
    try:
        stack.start()
        say(f"  API {stack.api_url}/docs   mocks {stack.mocks_url}/docs   Web UI {stack.ui_url}")
        status = drive(stack.api_url, stack.ui_url)
        if args.exit or os.environ.get("CI"):
            sys.exit(0 if status == "DISBURSED" else 1)
        say(f"\nThe system keeps running; logs in {stack.data_dir / 'logs'}. Ctrl-C stops it.")
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
        while True:
            stack.check_alive()
            time.sleep(1)
    except KeyboardInterrupt:
        pass
    finally:
        say("stopping")
        stack.stop()


if __name__ == "__main__":
    main()
