"""The retention job: deletes identity documents and anonymises ended applications once their
retention period has passed (`store.retention`). Run it daily:

    python -m workers.retention            # LOANFLOW_RETENTION_DAYS_ENDED / _DISBURSED
    python -m workers.retention --dry-run  # list what is due
"""

from __future__ import annotations

import argparse
import logging
import sys
from datetime import UTC, datetime

from config.settings import Settings, get_settings
from store import retention
from store.blob_crypto import EncryptedBlobStore
from store.blobs import LocalBlobStore
from store.db import create_tables, make_engine
from store.queries import in_session

logger = logging.getLogger(__name__)


def run(
    settings: Settings, now: datetime | None = None, dry_run: bool = False
) -> retention.RetentionReport:
    now = now or datetime.now(UTC)
    engine = make_engine(settings.resolved_database_url)
    create_tables(engine)
    blobs = EncryptedBlobStore(
        LocalBlobStore(settings.resolved_blob_dir), settings.blob_keys, settings.blob_key_id
    )
    report = retention.RetentionReport()
    try:
        due = in_session(
            engine,
            retention.due_for_purge,
            now,
            settings.retention_days_ended,
            settings.retention_days_disbursed,
        )
        for application_id in due:
            if not dry_run:
                report.blobs_deleted += in_session(
                    engine, retention.purge_application, application_id, blobs.delete, now
                )
            report.applications.append(application_id)
            logger.info("retention: %s %s", "due" if dry_run else "purged", application_id)
    finally:
        engine.dispose()
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m workers.retention", description=__doc__)
    parser.add_argument("--dry-run", action="store_true")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    report = run(get_settings(), dry_run=args.dry_run)
    print(f"{len(report.applications)} applications, {report.blobs_deleted} blobs deleted")
    return 0


if __name__ == "__main__":
    sys.exit(main())
