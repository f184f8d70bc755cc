"""How a vendor failure crosses into Temporal: a rejected request must not be retried, a
vendor that is down or slow must be. Activities that call a vendor are decorated with
`vendor_call`; the decision of what retries is `vendors.base.VendorError.retryable`."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import ParamSpec, TypeVar

from temporalio.exceptions import ApplicationError

from domain.naming import ErrorType
from vendors.base import VendorError

P = ParamSpec("P")
T = TypeVar("T")


def to_application_error(exc: VendorError) -> ApplicationError:
    """Raise the result `from exc`; the vendor message names the route and code, never PII."""
    if exc.retryable:
        return ApplicationError(exc.message)
    return ApplicationError(exc.message, type=ErrorType.VENDOR_REJECTED, non_retryable=True)


def vendor_call(fn: Callable[P, Awaitable[T]]) -> Callable[P, Awaitable[T]]:
    """A vendor failure anywhere in `fn` leaves it as the ApplicationError Temporal retries, or
    not, by the vendor's answer."""

    @functools.wraps(fn)
    async def call(*args: P.args, **kwargs: P.kwargs) -> T:
        try:
            return await fn(*args, **kwargs)
        except VendorError as exc:
            raise to_application_error(exc) from exc

    return call
