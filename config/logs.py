"""JSON log lines for every process, configured once by each entrypoint (`configure_logging`).

Each line is one JSON object: time, level, logger, message, and the ids that tie it to a
request or an application: `request_id` (the API's `X-Request-ID`), `workflow_id` and
`application_id` (from the Temporal workflow or activity the line was written in, or set by the
API route). Personal data is kept out by the callers; as a second line of defence the formatter
masks anything shaped like an ID number, a phone or a card number before the line is written.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)
application_id_var: ContextVar[str | None] = ContextVar("application_id", default=None)

_WORKFLOW_ID = re.compile(r"^(?:loan-application|payout)-(?P<app>.+)$")
# 18-character ID numbers, 11-digit mainland mobiles, 13-19 digit card numbers, as free-standing
# digit runs (a 64-character hex digest or a uuid is not touched)
_PII = re.compile(r"(?<![0-9A-Za-z])(?:\d{17}[\dXx]|1[3-9]\d{9}|\d{13,19})(?![0-9A-Za-z])")
_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName"}


def mask_pii(text: str) -> str:
    return _PII.sub(lambda m: f"[{len(m.group())} digits]", text)


def application_id_of(workflow_id: str | None) -> str | None:
    match = _WORKFLOW_ID.match(workflow_id or "")
    return match.group("app") if match else None


def _temporal_ids(record: logging.LogRecord) -> dict[str, str]:
    """Workflow and activity ids from the SDK's logger extras, or from the activity context
    for lines written by our own loggers inside an activity."""
    for attr in ("temporal_workflow", "temporal_activity"):
        info = getattr(record, attr, None)
        if isinstance(info, dict) and info.get("workflow_id"):
            ids = {"workflow_id": str(info["workflow_id"])}
            if info.get("activity_type"):
                ids["activity_type"] = str(info["activity_type"])
            if info.get("workflow_type"):
                ids["workflow_type"] = str(info["workflow_type"])
            return ids
    try:
        from temporalio import activity

        if activity.in_activity():
            info_ = activity.info()
            return {"workflow_id": info_.workflow_id or "", "activity_type": info_.activity_type}
    except RuntimeError:
        pass
    return {}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": mask_pii(record.getMessage()),
        }
        if request_id := request_id_var.get():
            line["request_id"] = request_id
        line.update(_temporal_ids(record))
        app = application_id_var.get() or application_id_of(line.get("workflow_id"))
        if app:
            line["application_id"] = app
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("temporal_") and key not in line:
                plain = isinstance(value, int | float | bool) or value is None
                line[key] = value if plain else mask_pii(str(value))
        if record.exc_info:
            # exception messages may quote input values
            exc = record.exc_info[1]
            line["exception"] = mask_pii(f"{type(exc).__name__}: {exc}")
            line["traceback"] = mask_pii(self.formatException(record.exc_info))
        return json.dumps(line, ensure_ascii=False, default=str)


def configure_logging(level: str | int = "INFO") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper() if isinstance(level, str) else level)
