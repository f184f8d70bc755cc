"""How a vendor failure crosses into Temporal: a rejected request must not be retried, a
vendor that is down or slow must be."""

from __future__ import annotations

from temporalio.exceptions import ApplicationError

from domain.naming import ErrorType
from vendors.base import VendorError


def to_application_error(exc: VendorError) -> ApplicationError:
    """Raise the result `from exc`; the vendor message names the route and code, never PII."""
    if exc.retryable:
        return ApplicationError(exc.message)
    return ApplicationError(exc.message, type=ErrorType.VENDOR_REJECTED, non_retryable=True)
