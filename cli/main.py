"""The ops command line. Tables for people, `--json` for scripts; amounts in tables are yuan,
in JSON fen (as the API sends them). The `db` commands work on the store itself (its schema, at
`DATABASE_URL`), not over the API: the deployment's one-shot migration job runs them.

    loanflow login --username alice              # password at the prompt or $LOANFLOW_OPS_PASSWORD
    loanflow review list
    loanflow review show <id>
    loanflow review approve <id> [--limit-yuan 8000] [--note ...]
    loanflow review reject <id> --reason R007 [--note ...]
    loanflow review more-info <id> --note "payslip please"
    loanflow app list [--status MANUAL_REVIEW] | app show <id> | app withdraw <id> --reason ...
    loanflow blacklist add|remove <id_number|phone|device> <value> [--reason ...]
    loanflow funnel [--days 7] [--png funnel.png]
    loanflow db upgrade [REVISION]               # the store's schema to head (or REVISION)
    loanflow db current                          # the store's revision
"""

from __future__ import annotations

import argparse
import getpass
import importlib
import json
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx

from cli import credentials

DEFAULT_API = "http://127.0.0.1:8000"
PASSWORD_ENV = "LOANFLOW_OPS_PASSWORD"
# the checkout this package sits in, when installed editable (`pip install -e .`)
SOURCE_TREE = Path(__file__).resolve().parent.parent


class CliError(Exception):
    """A refusal to print for a person (exit status 1)."""


# ---------------------------------------------------------------- HTTP


def _api_url(args: argparse.Namespace) -> str:
    session = credentials.load()
    given = args.api or os.environ.get("LOANFLOW_API_URL")
    return (given or (session.api_url if session else DEFAULT_API)).rstrip("/")


def _client(args: argparse.Namespace, signed_in: bool = True) -> httpx.Client:
    headers = {"Accept-Language": "en"}
    if signed_in:
        session = credentials.load()
        if session is None:
            raise CliError("not signed in: run `loanflow login` first")
        headers["Authorization"] = f"Bearer {session.access_token}"
    return httpx.Client(base_url=_api_url(args), headers=headers, timeout=args.timeout)


def _call(client: httpx.Client, method: str, path: str, **kwargs: Any) -> Any:
    try:
        response = client.request(method, path, **kwargs)
    except httpx.HTTPError as exc:
        raise CliError(f"cannot reach the API at {client.base_url}: {exc}") from exc
    if response.status_code == 401:
        raise CliError("not signed in, or the session has ended: run `loanflow login`")
    if response.status_code >= 400:
        try:
            body = response.json()
        except ValueError:
            body = {"code": "http_error", "message": response.text[:200]}
        detail = body.get("message") or body.get("detail") or ""
        status = f" (status {body['status']})" if body.get("status") else ""
        raise CliError(f"{response.status_code} {body.get('code', '')}: {detail}{status}")
    if response.headers.get("content-type", "").startswith("application/json"):
        return response.json()
    return response.content


# ---------------------------------------------------------------- output


def _yuan(fen: int | None) -> str:
    return "-" if fen is None else f"{fen / 100:,.2f}"


def _table(rows: list[dict[str, Any]], columns: list[tuple[str, Callable[[dict], str]]]) -> str:
    head = [name for name, _ in columns]
    body = [[get(row) for _, get in columns] for row in rows]
    widths = [max(len(line[i]) for line in [head, *body]) for i in range(len(head))]
    lines = ["  ".join(c.ljust(widths[i]) for i, c in enumerate(head))]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(c.ljust(widths[i]) for i, c in enumerate(line)) for line in body]
    return "\n".join(line.rstrip() for line in lines)


def _emit(args: argparse.Namespace, data: Any, human: Callable[[Any], str]) -> None:
    if args.json:
        print(json.dumps(data, ensure_ascii=False, indent=2))
    else:
        print(human(data))


# ---------------------------------------------------------------- commands


def cmd_login(args: argparse.Namespace) -> None:
    username = args.username or input("username: ")
    password = os.environ.get(PASSWORD_ENV) or getpass.getpass("password: ")
    with _client(args, signed_in=False) as client:
        try:
            body = _call(
                client,
                "POST",
                "/v1/ops/sessions",
                json={"username": username, "password": password},
            )
        except CliError as exc:
            raise CliError(f"sign-in refused: {exc}") from exc
    path = credentials.save(
        credentials.Session(
            api_url=str(client.base_url).rstrip("/"),
            access_token=body["access_token"],
            username=body["username"],
            role=body["role"],
            expires_at=body["expires_at"],
        )
    )
    safe = {k: body[k] for k in ("username", "role", "expires_at")}
    _emit(args, safe, lambda b: f"signed in as {b['username']} ({b['role']}) until "
          f"{b['expires_at']}; session in {path}")  # fmt: skip


def cmd_logout(args: argparse.Namespace) -> None:
    session = credentials.load()
    if session is not None:
        with _client(args) as client:
            try:
                _call(client, "DELETE", "/v1/ops/sessions")
            except CliError:
                pass  # an ended session needs no sign-out; the file goes either way
    credentials.forget()
    _emit(args, {"signed_out": session is not None}, lambda _: "signed out")


REVIEW_COLUMNS: list[tuple[str, Callable[[dict], str]]] = [
    ("id", lambda r: r["id"]),
    ("product", lambda r: r["product_code"]),
    ("amount ¥", lambda r: _yuan(r["requested_amount"])),
    ("term", lambda r: str(r["term_months"])),
    ("grade", lambda r: r["risk_grade"] or "-"),
    ("limit ¥", lambda r: _yuan(r["approved_limit"])),
    ("queue", lambda r: (r["review_queue"] or "-") + (" !" if r.get("escalated") else "")),
    ("SLA deadline", lambda r: (r.get("sla_deadline") or "-")[:19]),
]

APP_COLUMNS: list[tuple[str, Callable[[dict], str]]] = [
    ("id", lambda r: r["id"]),
    ("status", lambda r: r["status"]),
    ("product", lambda r: r["product_code"]),
    ("amount ¥", lambda r: _yuan(r["requested_amount"])),
    ("grade", lambda r: r["risk_grade"] or "-"),
    ("limit ¥", lambda r: _yuan(r["approved_limit"])),
    ("reasons", lambda r: ",".join(r["reasons"]) or "-"),
    ("created", lambda r: r["created_at"][:19]),
]


def cmd_review_list(args: argparse.Namespace) -> None:
    params = {"queue": args.queue} if args.queue else {}
    with _client(args) as client:
        rows = _call(client, "GET", "/v1/ops/reviews", params=params)
    _emit(args, rows, lambda r: _table(r, REVIEW_COLUMNS) if r else "the review queue is empty")


def _evidence_text(e: dict[str, Any]) -> str:
    app, live = e.get("application") or {}, e.get("live") or {}
    lines = [
        f"application  {app.get('id') or live.get('application_id')}",
        f"status       {live.get('status') or app.get('status')}"
        + (" (live)" if live else " (store)"),
        f"product      {app.get('product_code', '-')}   "
        f"requested ¥{_yuan(app.get('requested_amount'))} over {app.get('term_months')} months",
        f"grade        {app.get('risk_grade') or '-'}   limit ¥{_yuan(app.get('approved_limit'))}"
        f"   queue {app.get('review_queue') or '-'}",
        f"phone        {app.get('phone_masked', '-')}   "
        f"device {app.get('device_fingerprint', '-')}",
    ]
    for d in e.get("decisions", []):
        lines.append(
            f"decision     {d['stage']}: {d['outcome']} score {d['score']} grade {d['grade']} "
            f"rules {', '.join(d['rules_fired']) or '-'} reasons {', '.join(d['reasons']) or '-'}"
        )
    lines.append("documents    " + (", ".join(d["kind"] for d in e.get("documents", [])) or "-"))
    lines.append("audit trail")
    for a in e.get("audit", []):
        who = a["data"].get("reviewer")
        lines.append(
            f"  {a['at'][:19]}  {a['event']:<24} {a['status']}" + (f"  by {who}" if who else "")
        )
    return "\n".join(lines)


def cmd_show(args: argparse.Namespace) -> None:
    with _client(args) as client:
        evidence = _call(client, "GET", f"/v1/ops/applications/{args.id}")
    _emit(args, evidence, _evidence_text)


def _record(args: argparse.Namespace, outcome: str, **fields: Any) -> None:
    body = {"outcome": outcome, "note": args.note or "", **fields}
    with _client(args) as client:
        result = _call(client, "POST", f"/v1/ops/reviews/{args.id}", json=body)
    _emit(args, result, lambda r: f"{args.id}: {outcome} recorded; status now {r['status']}")


def cmd_approve(args: argparse.Namespace) -> None:
    limit = round(args.limit_yuan * 100) if args.limit_yuan is not None else None
    _record(args, "APPROVE", approved_limit=limit)


def cmd_reject(args: argparse.Namespace) -> None:
    _record(args, "REJECT", reason_code=args.reason)


def cmd_more_info(args: argparse.Namespace) -> None:
    _record(args, "REQUEST_MORE_INFO")


def cmd_app_list(args: argparse.Namespace) -> None:
    params: dict[str, Any] = {"limit": args.limit}
    if args.status:
        params["status"] = args.status
    with _client(args) as client:
        rows = _call(client, "GET", "/v1/ops/applications", params=params)
    _emit(args, rows, lambda r: _table(r, APP_COLUMNS) if r else "no applications")


def cmd_app_withdraw(args: argparse.Namespace) -> None:
    with _client(args) as client:
        view = _call(
            client, "POST", f"/v1/ops/applications/{args.id}/withdraw", json={"reason": args.reason}
        )
    _emit(args, view, lambda v: f"{args.id}: withdrawn; status now {v['status']}")


def cmd_blacklist_add(args: argparse.Namespace) -> None:
    body = {"kind": args.kind, "value": args.value, "reason": args.reason or ""}
    with _client(args) as client:
        result = _call(client, "POST", "/v1/ops/blacklist", json=body)
    _emit(args, result, lambda r: f"{args.kind}: {'added' if r['added'] else 'already listed'}")


def cmd_blacklist_remove(args: argparse.Namespace) -> None:
    body = {"kind": args.kind, "value": args.value}
    with _client(args) as client:
        result = _call(client, "POST", "/v1/ops/blacklist/remove", json=body)
    _emit(args, result, lambda r: f"{args.kind}: {'removed' if r['removed'] else 'was not listed'}")


def _field(name: str) -> Callable[[dict], str]:
    return lambda row: str(row[name])


def cmd_funnel(args: argparse.Namespace) -> None:
    params = {"days": args.days} if args.days else {}
    with _client(args) as client:
        rows = _call(client, "GET", "/v1/ops/funnel", params=params)
        if args.png:
            with open(args.png, "wb") as out:
                out.write(_call(client, "GET", "/v1/ops/funnel.png", params=params))
    columns: list[tuple[str, Callable[[dict], str]]] = [
        (name, _field(name))
        for name in ("stage", "entered", "passed", "rejected", "expired", "withdrawn", "waiting")
    ]
    columns.append(
        ("median", lambda r: "-" if r["median_seconds"] is None else f"{r['median_seconds']:.1f} s")
    )
    columns.append(
        (
            "rejected by reason",
            lambda r: " ".join(f"{c}×{n}" for c, n in r["rejected_by_reason"].items()),
        )
    )
    _emit(args, rows, lambda r: _table(r, columns))


# ---------------------------------------------------------------- the store's schema


def _migrations() -> ModuleType:
    """`store.migrations` of the source tree. Only `cli` is installed as a package: `store` is on
    the path in the image (PYTHONPATH=/app) and when run from the checkout with it; the script
    of an editable install finds it next to this package."""
    try:
        return importlib.import_module("store.migrations")
    except ModuleNotFoundError as exc:
        if exc.name != "store":
            raise
    if not (SOURCE_TREE / "store" / "migrations" / "__init__.py").is_file():
        raise CliError(
            "`loanflow db` runs the migrations of the loanflow source tree, which this "
            "installation does not have: run it from the checkout (`pip install -e .`, or "
            "PYTHONPATH=<checkout>) or in the loanflow image"
        )
    sys.path.insert(0, str(SOURCE_TREE))
    return importlib.import_module("store.migrations")


def cmd_db_upgrade(args: argparse.Namespace) -> None:
    migrations = _migrations()
    migrations.log_progress()
    print(migrations.upgrade_configured(args.revision))


def cmd_db_current(args: argparse.Namespace) -> None:
    print(_migrations().current_configured())


# ---------------------------------------------------------------- parser


def parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--api", help=f"API base URL (default: the login's, or {DEFAULT_API})")
    common.add_argument("--json", action="store_true", help="JSON output for scripts")
    common.add_argument("--timeout", type=float, default=30.0, help="seconds per request")
    top = argparse.ArgumentParser(prog="loanflow", description=__doc__, parents=[common],
                                  formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    sub = top.add_subparsers(dest="command", required=True)

    login = sub.add_parser("login", parents=[common], help="sign in and keep the session")
    login.add_argument("--username")
    login.set_defaults(run=cmd_login)
    sub.add_parser("logout", parents=[common], help="sign out").set_defaults(run=cmd_logout)

    review = sub.add_parser("review", help="the second-review queue").add_subparsers(
        dest="action", required=True
    )
    listing = review.add_parser("list", parents=[common], help="oldest SLA deadline first")
    listing.add_argument("--queue")
    listing.set_defaults(run=cmd_review_list)
    show = review.add_parser("show", parents=[common], help="the evidence of one case")
    show.add_argument("id")
    show.set_defaults(run=cmd_show)
    for name, run, help_text in [
        ("approve", cmd_approve, "approve, optionally with a lower limit"),
        ("reject", cmd_reject, "reject with a reason code"),
        ("more-info", cmd_more_info, "ask the applicant for more information"),
    ]:
        action = review.add_parser(name, parents=[common], help=help_text)
        action.add_argument("id")
        action.add_argument("--note", default="", required=name == "more-info")
        if name == "approve":
            action.add_argument("--limit-yuan", type=float, help="a lower limit, in yuan")
        if name == "reject":
            action.add_argument("--reason", default="V001", help="reason code (default V001)")
        action.set_defaults(run=run)

    app = sub.add_parser("app", help="applications").add_subparsers(dest="action", required=True)
    app_list = app.add_parser("list", parents=[common], help="newest first")
    app_list.add_argument("--status")
    app_list.add_argument("--limit", type=int, default=50)
    app_list.set_defaults(run=cmd_app_list)
    app_show = app.add_parser("show", parents=[common], help="status, decisions, audit trail")
    app_show.add_argument("id")
    app_show.set_defaults(run=cmd_show)
    withdraw = app.add_parser("withdraw", parents=[common], help="withdraw for the applicant")
    withdraw.add_argument("id")
    withdraw.add_argument("--reason", required=True)
    withdraw.set_defaults(run=cmd_app_withdraw)

    blacklist = sub.add_parser("blacklist", help="the platform's own blacklist").add_subparsers(
        dest="action", required=True
    )
    for name, run in [("add", cmd_blacklist_add), ("remove", cmd_blacklist_remove)]:
        entry = blacklist.add_parser(name, parents=[common])
        entry.add_argument("kind", choices=["id_number", "phone", "device"])
        entry.add_argument("value")
        if name == "add":
            entry.add_argument("--reason", default="")
        entry.set_defaults(run=run)

    report = sub.add_parser("funnel", parents=[common], help="the application funnel")
    report.add_argument("--days", type=float)
    report.add_argument("--png", help="also save the chart here")
    report.set_defaults(run=cmd_funnel)

    db = sub.add_parser("db", help="the store's schema (at DATABASE_URL)").add_subparsers(
        dest="action", required=True
    )
    upgrade = db.add_parser("upgrade", help="migrate the store to a revision (default: head)")
    upgrade.add_argument("revision", nargs="?", default="head")
    upgrade.set_defaults(run=cmd_db_upgrade)
    db.add_parser("current", help="print the store's revision").set_defaults(run=cmd_db_current)
    return top


def main(argv: Sequence[str] | None = None) -> None:
    args = parser().parse_args(argv)
    try:
        args.run(args)
    except CliError as exc:
        print(f"loanflow: {exc}", file=sys.stderr)
        raise SystemExit(1) from exc


if __name__ == "__main__":
    main()
