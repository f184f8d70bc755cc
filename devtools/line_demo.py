"""The demo's second part: the revolving approval became a credit line; draw twice on it, sign
each draw's contract, wait for the money, repay part of it and show the line and its schedule."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx


def _get(http: httpx.Client, url: str, auth: dict[str, str]) -> dict[str, Any]:
    response = http.get(url, headers=auth)
    response.raise_for_status()
    body: dict[str, Any] = response.json()
    return body


def _until(check: Callable[[], Any], what: str, seconds: float = 120) -> Any:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.25)
    raise SystemExit(f"demo stopped: {what} did not happen in {seconds:.0f}s")


def _stage(http: httpx.Client, url: str, auth: dict[str, str], stage: str) -> None:
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        current = _get(http, url, auth)["stage"]
        if current == stage:
            return
        if current in ("REJECTED", "EXPIRED", "FAILED"):
            raise SystemExit(f"demo stopped: the draw ended {current}")
        time.sleep(0.25)
    raise SystemExit(f"demo stopped: the draw never reached {stage}")


def _yuan(fen: int) -> str:
    return f"{fen / 100:,.2f}"


def drive_line(
    http: httpx.Client, line_id: str, token: str, say: Callable[[str], None]
) -> dict[str, Any]:
    auth = {"Authorization": f"Bearer {token}"}
    url = f"/v1/lines/{line_id}"
    line = _until(
        lambda: (r := http.get(url, headers=auth)).status_code == 200 and r.json(), "the line"
    )
    limit, available = _yuan(line["limit"]), _yuan(line["available"])
    say(f"\ncredit line {line_id}: {line['status']}, limit {limit}, available {available} yuan")
    say("  (the loan just paid out is the line's first draw)")
    for n, amount in enumerate((300_000, 200_000), start=1):
        body = {"amount": amount, "term_months": 3, "reference": f"demo-{line_id[-8:]}-{n}"}
        response = http.post(f"{url}/draws", json=body, headers=auth)
        if response.status_code != 201:
            raise SystemExit(f"demo stopped: draw refused: {response.text}")
        draw = response.json()
        draw_url = f"{url}/draws/{draw['draw_id']}"
        first = draw["schedule"]["installments"][0]["payment"]
        say(f"  draw {n}: {_yuan(amount)} yuan over 3 months, first instalment {_yuan(first)}")
        _stage(http, draw_url, auth, "AWAITING_SIGNATURE")
        http.post(f"{draw_url}/sign", json={"otp": "135790"}, headers=auth).raise_for_status()
        _stage(http, draw_url, auth, "DISBURSED")
        say(f"  draw {n}: contract signed, money sent ({draw['draw_id']})")
    line = _get(http, url, auth)
    say(f"  available now {_yuan(line['available'])} yuan")
    paid = http.post(
        f"{url}/repayments",
        json={"amount": 150_000, "reference": f"demo-pay-{line_id[-8:]}"},
        headers=auth,
    )
    if paid.status_code != 200:
        raise SystemExit(f"demo stopped: repayment refused: {paid.text}")
    repaid = paid.json()
    principal, charges = _yuan(repaid["principal"]), _yuan(repaid["charges"])
    say(f"  repaid {_yuan(repaid['amount'])} yuan: principal {principal}, interest {charges}")
    say(f"  available again {_yuan(repaid['available'])} yuan")
    schedule = _get(http, f"{url}/schedule", auth)
    owed, count = _yuan(schedule["outstanding"]), len(schedule["instalments"])
    say(f"  next instalment due {schedule['next_due_on']}; {count} instalments, {owed} owed")
    return _get(http, url, auth)
