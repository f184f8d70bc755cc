"""Store calls made by activities (every stage's projection, screening look-ups, decisions,
disbursements): retryability decided once. The database being down is transient and retried by
the call's policy; data the database refuses (a NUL byte, a value too long, a broken constraint)
is refused the same way on every retry, so it fails the step for good and the workflow ends
FAILED with the reason, instead of retrying forever with nothing shown to ops."""

from __future__ import annotations

from collections.abc import Callable
from typing import Concatenate, ParamSpec, TypeVar

from sqlalchemy import Engine
from sqlalchemy.exc import DataError, IntegrityError
from sqlmodel import Session
from temporalio import activity
from temporalio.exceptions import ApplicationError

from domain.naming import ErrorType
from store import queries

P = ParamSpec("P")
T = TypeVar("T")

# From this attempt on, a store step is reported as stuck on every retry, in the log and on the
# worker's metrics (`STUCK_METRIC`, tagged with the activity type, for an alert to fire on); the
# retry policy's schedule-to-close bound ends it.
STUCK_AFTER_ATTEMPTS = 5
STUCK_METRIC = "loanflow_store_step_stuck"


async def store_call(
    engine: Engine, fn: Callable[Concatenate[Session, P], T], *args: P.args, **kwargs: P.kwargs
) -> T:
    info = activity.info()
    if info.attempt >= STUCK_AFTER_ATTEMPTS:
        activity.logger.error(
            "store step stuck: %s attempt %d of workflow %s",
            info.activity_type,
            info.attempt,
            info.workflow_id,
        )
        activity.metric_meter().create_counter(
            STUCK_METRIC, "attempts of a store step that has failed four times or more"
        ).add(1)
    try:
        return await queries.in_thread(engine, fn, *args, **kwargs)
    except (DataError, IntegrityError, UnicodeError) as exc:
        # The message names the kind of refusal only: the driver's text echoes the parameters,
        # which hold personal data.
        orig = getattr(exc, "orig", None) or exc
        reason = f"the store refused the data: {type(orig).__name__}"
        activity.logger.error("%s in %s (%s)", reason, info.activity_type, info.workflow_id)
        raise ApplicationError(reason, type=ErrorType.DATA_REFUSED, non_retryable=True) from None
