"""Ops people: add, disable, enable and list them, and the development seed.

    python -m api.ops_users add alice --role reviewer   # password from LOANFLOW_OPS_PASSWORD
    python -m api.ops_users disable alice                #   or asked at the prompt
    python -m api.ops_users list

Outside production the API seeds one user per role (`DEV_USERS`, password `DEV_PASSWORD`) so
the demo and the tests can sign in; the settings refuse the seed in production.
"""

from __future__ import annotations

import argparse
import getpass
import logging
import os
import sys

from sqlalchemy import Engine

from api.identity import hash_password
from config.settings import Settings, get_settings
from domain.enums import OpsRole
from store import identity
from store.db import create_tables, make_engine
from store.queries import in_session

logger = logging.getLogger(__name__)

PASSWORD_ENV = "LOANFLOW_OPS_PASSWORD"
DEV_PASSWORD = "loanflow-dev"
DEV_USERS = {role.value: role for role in OpsRole}
MIN_PASSWORD_LENGTH = 12


def seed_dev_users(engine: Engine) -> list[str]:
    """Create the missing development users; returns the names created."""
    created = []
    for username, role in DEV_USERS.items():
        if in_session(engine, identity.get_user, username) is None:
            digest = hash_password(DEV_PASSWORD)
            if in_session(engine, identity.add_user_if_missing, username, digest, role):
                created.append(username)
    return created


def _password() -> str:
    password = os.environ.get(PASSWORD_ENV) or getpass.getpass(f"password (or ${PASSWORD_ENV}): ")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise SystemExit(f"the password needs at least {MIN_PASSWORD_LENGTH} characters")
    return password


def main(argv: list[str] | None = None, settings: Settings | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m api.ops_users", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    add = commands.add_parser("add", help="create a user, or reset its password and role")
    add.add_argument("username")
    add.add_argument("--role", required=True, choices=[r.value for r in OpsRole])
    for name in ("disable", "enable"):
        commands.add_parser(name).add_argument("username")
    commands.add_parser("list")
    args = parser.parse_args(argv)

    engine = make_engine((settings or get_settings()).resolved_database_url)
    create_tables(engine)
    try:
        if args.command == "add":
            role = OpsRole(args.role)
            created = in_session(
                engine, identity.upsert_user, args.username, hash_password(_password()), role
            )
            print(f"{'added' if created else 'updated'} {args.username} ({role.value})")
        elif args.command in ("disable", "enable"):
            try:
                in_session(engine, identity.set_active, args.username, args.command == "enable")
            except identity.UnknownUser:
                print(f"no such user: {args.username}", file=sys.stderr)
                return 1
            print(f"{args.command}d {args.username}")
        else:
            for user in in_session(engine, identity.list_users):
                print(f"{user.username}\t{user.role}\t{'active' if user.active else 'disabled'}")
    finally:
        engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
