"""`python -m store.migrations upgrade|current|revision -m MESSAGE`: the schema of the store at
`DATABASE_URL` (or the SQLite file of the data dir). `loanflow db upgrade|current` runs the same
upgrade and current."""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from alembic import command
from alembic.script import ScriptDirectory

from store.migrations import (
    HERE,
    alembic_config,
    current_configured,
    log_progress,
    upgrade,
    upgrade_configured,
)


def new_revision(message: str) -> Path:
    """Autogenerate the next numbered revision: the models compared with a scratch database
    upgraded to the current head."""
    with tempfile.TemporaryDirectory() as scratch:
        url = f"sqlite:///{Path(scratch) / 'head.db'}"
        upgrade(url)
        config = alembic_config(url)
        heads = ScriptDirectory.from_config(config).get_heads()
        number = max((int(h) for h in heads if h.isdigit()), default=0) + 1
        script = command.revision(config, message, autogenerate=True, rev_id=f"{number:04d}")
    path = Path(script.path) if script and not isinstance(script, list) else HERE / "versions"
    return path


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m store.migrations", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    up = sub.add_parser("upgrade", help="migrate the database to a revision (default: head)")
    up.add_argument("revision", nargs="?", default="head")
    sub.add_parser("current", help="print the database's revision")
    rev = sub.add_parser("revision", help="autogenerate a revision from store/tables.py")
    rev.add_argument("-m", "--message", required=True)
    args = parser.parse_args()
    log_progress()
    if args.command == "upgrade":
        print(upgrade_configured(args.revision))
    elif args.command == "current":
        print(current_configured())
    else:
        print(f"wrote {new_revision(args.message)}")


if __name__ == "__main__":
    main()
