"""What every vendor client shares: one bounded httpx client and one mapping of failures.

Clients never retry: the activity calling them runs under a Temporal retry policy, and a
retry inside would hide the attempt from history. Whether a failure is worth retrying is
decided here, once: timeouts, connection errors, 429 and 5xx are retryable; other 4xx mean
the request itself is wrong and will stay wrong. Messages carry the vendor, the route and the
vendor's error code, never a request or response body (they hold personal data).
"""

from __future__ import annotations

from types import TracebackType
from typing import Any, Self, TypeVar

import httpx
from pydantic import BaseModel, ValidationError

DEFAULT_TIMEOUT_SECONDS = 10.0

M = TypeVar("M", bound=BaseModel)


class VendorError(Exception):
    def __init__(
        self,
        message: str,
        *,
        retryable: bool,
        status_code: int | None = None,
        code: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.retryable = retryable
        self.status_code = status_code
        self.code = code


def error_code(response: httpx.Response) -> str | None:
    """The vendor's error code from an `{"error": CODE, ...}` body, if it sent one."""
    try:
        body = response.json()
    except ValueError:
        return None
    code = body.get("error") if isinstance(body, dict) else None
    return code if isinstance(code, str) else None


def error_for_response(vendor: str, route: str, response: httpx.Response) -> VendorError:
    code = error_code(response)
    status = response.status_code
    retryable = status >= 500 or status in (408, 429)
    return VendorError(
        f"{vendor} {route} answered {status}" + (f" {code}" if code else ""),
        retryable=retryable,
        status_code=status,
        code=code,
    )


class VendorClient:
    """Base of the per-vendor clients. Every call is bounded by `timeout` seconds for each of
    connect, write, read and pool acquisition.

    Pass `client` to share a connection pool (the caller closes it) or `transport` to route
    requests elsewhere, e.g. `httpx.ASGITransport(app=create_app())` in tests.
    """

    vendor = "vendor"

    def __init__(
        self,
        base_url: str,
        *,
        timeout: float = DEFAULT_TIMEOUT_SECONDS,
        client: httpx.AsyncClient | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = httpx.Timeout(timeout)
        self._owns_client = client is None
        self._client = client or httpx.AsyncClient(transport=transport, timeout=self.timeout)

    async def aclose(self) -> None:
        if self._owns_client:
            await self._client.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def request(
        self,
        method: str,
        path: str,
        *,
        route: str | None = None,
        accept: tuple[int, ...] = (200,),
        **kwargs: Any,
    ) -> httpx.Response:
        """Send one request; any status outside `accept` becomes a VendorError.

        `route` names the call in errors when the path holds an identifier.
        """
        route = route or path
        try:
            response = await self._client.request(
                method, self.base_url + path, timeout=self.timeout, **kwargs
            )
        except httpx.TimeoutException as exc:
            raise VendorError(f"{self.vendor} {route} timed out", retryable=True) from exc
        except httpx.TransportError as exc:
            raise VendorError(
                f"{self.vendor} {route} unreachable: {type(exc).__name__}", retryable=True
            ) from exc
        if response.status_code not in accept:
            raise error_for_response(self.vendor, route, response)
        return response

    def parse(self, model: type[M], route: str, response: httpx.Response) -> M:
        """The body as `model`; a body that does not fit is a protocol error, not retryable."""
        try:
            return model.model_validate(response.json())
        except (ValueError, ValidationError):
            # not chained: a validation error quotes the body, which holds personal data
            raise VendorError(
                f"{self.vendor} {route} sent a malformed body",
                retryable=False,
                status_code=response.status_code,
            ) from None
