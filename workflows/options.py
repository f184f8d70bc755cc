"""Activity call presets shared by the workflows.

Every activity call states its timeouts and retry policy through one of these presets, so the
retry behaviour of a kind of call (store write, vendor call, CPU-bound vision) is decided once.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import timedelta

from temporalio.common import RetryPolicy

from domain.naming import ErrorType


@dataclass(frozen=True)
class CallOptions:
    """How one kind of activity call runs; `vision` routes it to the vision task queue."""

    start_to_close: timedelta
    schedule_to_close: timedelta | None
    retry: RetryPolicy
    heartbeat: timedelta | None = None
    vision: bool = False


MINUTE = timedelta(minutes=1)

# A local activity retries inside the workflow task, which holds queries and updates back, only
# while its back-off is this short; a longer back-off waits on a timer, so the application still
# answers its status query while, say, the database is down.
LOCAL_RETRY_THRESHOLD = timedelta(seconds=2)
NON_RETRYABLE = [ErrorType.VENDOR_REJECTED, ErrorType.INVALID_INPUT, ErrorType.BAD_DOCUMENT]

# The store is retried through an outage of up to half an hour (the activity logs a stuck step
# from the fifth attempt and counts it on the worker's metrics, `loanflow_store_step_stuck`);
# data the store refuses fails at once (activities.storage).
STORE = CallOptions(
    start_to_close=timedelta(seconds=30),
    schedule_to_close=timedelta(minutes=30),
    retry=RetryPolicy(
        maximum_interval=timedelta(minutes=1), non_retryable_error_types=NON_RETRYABLE
    ),
)

# Outside parties: retry transient failures for up to ten minutes, then the stage fails visibly.
VENDOR = CallOptions(
    start_to_close=timedelta(seconds=20),
    schedule_to_close=timedelta(minutes=10),
    retry=RetryPolicy(
        initial_interval=timedelta(seconds=1),
        backoff_coefficient=2.0,
        maximum_interval=timedelta(seconds=30),
        non_retryable_error_types=NON_RETRYABLE,
    ),
)

# CPU-bound checks on the vision queue: a bad upload is a result, not an error, so an exception
# here is infrastructure; three tries keep a poisoned input from looping forever.
VISION = CallOptions(
    vision=True,
    start_to_close=timedelta(minutes=3),
    schedule_to_close=timedelta(minutes=20),
    retry=RetryPolicy(
        initial_interval=timedelta(seconds=2),
        maximum_attempts=3,
        non_retryable_error_types=NON_RETRYABLE,
    ),
)

# Money movement: never give up on the gateway while an order may exist; the payout stays
# visibly in DISBURSING and the idempotency key makes every retry safe.
PAYMENT = CallOptions(
    start_to_close=timedelta(seconds=20),
    schedule_to_close=None,
    retry=RetryPolicy(
        initial_interval=timedelta(seconds=1),
        backoff_coefficient=2.0,
        maximum_interval=timedelta(minutes=2),
        non_retryable_error_types=NON_RETRYABLE,
    ),
)

# Local CPU work on the main queue (policy, contract rendering).
LOCAL = CallOptions(
    start_to_close=timedelta(seconds=60),
    schedule_to_close=timedelta(minutes=10),
    retry=RetryPolicy(
        maximum_interval=timedelta(seconds=30), non_retryable_error_types=NON_RETRYABLE
    ),
)


# The carrier report is produced asynchronously: the activity polls it with a short back-off and
# heartbeats while it waits (activities.carrier); a report still pending after the activity's poll
# budget fails with REPORT_PENDING, and this policy retries it up to the product's limit.
def carrier_report_poll(limit: timedelta) -> CallOptions:
    return CallOptions(
        start_to_close=timedelta(seconds=20),
        schedule_to_close=limit,
        heartbeat=timedelta(seconds=5),
        retry=RetryPolicy(
            initial_interval=timedelta(milliseconds=500),
            backoff_coefficient=1.5,
            maximum_interval=timedelta(seconds=15),
            non_retryable_error_types=NON_RETRYABLE,
        ),
    )


def interactive(limit: timedelta) -> CallOptions:
    """A vendor call an applicant is waiting on in an update: retried, but only up to `limit`."""
    return replace(VENDOR, schedule_to_close=limit)
