"""Try a candidate policy on past applications before switching to it.

    python -m commands.replay_policy --candidate policies/2026.12-tight [--since 2026-11-01]
        [--until 2026-12-01] [--limit 10000] [--show 20] [--database-url URL]

Reads the stage-5 decisions from the store the services use (the Settings: DATABASE_URL, else
the SQLite file under the data folder; --database-url overrides it), decides each again under
the candidate (`decisioning.replay`) and prints the comparison.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from datetime import date
from pathlib import Path

from sqlmodel import Session

from config.settings import Settings
from decisioning.evaluator import PolicyEvaluator
from decisioning.loader import PolicyLoadError, load_policy
from decisioning.replay import format_report, replay
from store.db import make_engine
from store.queries import decision_records


def main(argv: Sequence[str] | None = None, settings: Settings | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m commands.replay_policy",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--candidate", type=Path, required=True, help="a policy directory")
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--since", type=date.fromisoformat, default=None)
    parser.add_argument("--until", type=date.fromisoformat, default=None)
    parser.add_argument("--limit", type=int, default=None)
    parser.add_argument("--show", type=int, default=20, help="changed applications listed")
    args = parser.parse_args(argv)
    try:
        candidate = load_policy(args.candidate)
    except PolicyLoadError as exc:
        print(f"candidate refused: {exc}", file=sys.stderr)
        return 2
    url = args.database_url or (settings or Settings()).resolved_database_url
    db = make_engine(url)
    try:
        with Session(db) as session:
            records = decision_records(session, args.since, args.until, args.limit)
    finally:
        db.dispose()
    print(format_report(replay(records, PolicyEvaluator(candidate), candidate), args.show))
    return 0


if __name__ == "__main__":
    sys.exit(main())
