"""The one place where failures become HTTP answers: `{"error": code, "detail": ...}`.

Routes and the workflow gateway raise `ApiError`s (or let validation and pricing errors through);
`install_error_handlers` maps every one of them. Messages never carry request bodies: those hold
personal data.
"""

from __future__ import annotations

import logging
from typing import Any

import sqlalchemy.exc
from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from domain.pricing import PriceAboveCap

# A dependency that is down (database, Temporal, blob store) is worth retrying shortly.
RETRY_AFTER_SECONDS = 5
UNAVAILABLE_ERRORS: tuple[type[Exception], ...] = (
    sqlalchemy.exc.OperationalError,
    sqlalchemy.exc.InterfaceError,
    sqlalchemy.exc.TimeoutError,
    ConnectionError,
    OSError,
)

logger = logging.getLogger(__name__)


class ApiError(Exception):
    status_code = 400
    code = "bad_request"

    def __init__(self, detail: Any = None, **extra: Any) -> None:
        super().__init__(self.code)
        self.detail = detail
        self.extra = extra


class Unauthorized(ApiError):
    status_code, code = 401, "unauthorized"


class Forbidden(ApiError):
    """Signed in, but the role does not allow this action."""

    status_code, code = 403, "forbidden"


class NotFound(ApiError):
    status_code, code = 404, "not_found"


class WrongStage(ApiError):
    """The workflow refused the message in its current stage (`status` says which)."""

    status_code, code = 409, "wrong_stage"


class ApplicationClosed(ApiError):
    """The workflow has finished; `status` is its final status."""

    status_code, code = 409, "closed"


class InvalidRequest(ApiError):
    status_code, code = 422, "invalid_request"


class InvalidInput(ApiError):
    """Refused by the workflow's validator or by a step's business check."""

    status_code, code = 422, "invalid_input"


class Unprocessable(ApiError):
    """A well-formed request that cannot be carried out (wrong code, refused card, missing
    documents): `code` says which, extras say what the caller can do next."""

    status_code = 422

    def __init__(self, code: str, detail: Any = None, **extra: Any) -> None:
        super().__init__(detail, **extra)
        self.code = code


class TooLarge(ApiError):
    status_code, code = 413, "too_large"


class ImageTooLarge(ApiError):
    status_code, code = 422, "image_too_large"


class UnsupportedMedia(ApiError):
    status_code = 415

    def __init__(self, code: str, detail: Any = None) -> None:
        super().__init__(detail)
        self.code = code


class BadSignature(ApiError):
    status_code, code = 401, "bad_signature"


class Unavailable(ApiError):
    status_code, code = 503, "unavailable"


class RateLimited(ApiError):
    """Too many attempts; `retry_after` seconds until the next one is allowed."""

    status_code, code = 429, "rate_limited"

    def __init__(self, detail: Any = None, retry_after: int = 60, **extra: Any) -> None:
        super().__init__(detail, retry_after=retry_after, **extra)
        self.retry_after = retry_after


class UpstreamTimeout(ApiError):
    status_code, code = 504, "timeout"


class Internal(ApiError):
    status_code, code = 500, "internal"


def error_response(
    status_code: int,
    code: str,
    detail: Any = None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    body = {"error": code, "detail": detail, **extra}
    return JSONResponse(jsonable_encoder(body), status_code=status_code, headers=headers)


def _validation_detail(exc: RequestValidationError) -> list[dict[str, Any]]:
    # Only where and why: pydantic's "input" echo would return personal data.
    return [
        {"loc": list(err.get("loc", ())), "msg": err.get("msg", ""), "type": err.get("type", "")}
        for err in exc.errors()
    ]


async def _handle(request: Request, exc: Exception) -> JSONResponse:
    if isinstance(exc, ApiError):
        headers = {"WWW-Authenticate": "Bearer"} if exc.status_code == 401 else None
        if isinstance(exc, RateLimited):
            headers = {"Retry-After": str(exc.retry_after)}
        elif exc.status_code == 503:
            headers = {"Retry-After": str(RETRY_AFTER_SECONDS)}
        return error_response(exc.status_code, exc.code, exc.detail, headers, **exc.extra)
    if isinstance(exc, UNAVAILABLE_ERRORS):
        # Only the kind: driver messages can echo query parameters.
        logger.error("dependency unavailable on %s: %s", request.url.path, type(exc).__name__)
        return error_response(
            503,
            "unavailable",
            "a service this request needs is unavailable; try again",
            {"Retry-After": str(RETRY_AFTER_SECONDS)},
        )
    if isinstance(exc, sqlalchemy.exc.DataError):
        return error_response(422, "invalid_request", "the store refused a value of the request")
    if isinstance(exc, RequestValidationError):
        return error_response(422, "invalid_request", _validation_detail(exc))
    if isinstance(exc, PriceAboveCap):
        return error_response(422, "price_above_cap", str(exc))
    if isinstance(exc, StarletteHTTPException):
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        return error_response(exc.status_code, code, exc.detail, exc.headers)
    logger.exception("unhandled error on %s %s", request.method, request.url.path)
    return error_response(500, "internal")


def install_error_handlers(app: FastAPI) -> None:
    for kind in (ApiError, RequestValidationError, PriceAboveCap, StarletteHTTPException):
        app.add_exception_handler(kind, _handle)
    for unavailable in (*UNAVAILABLE_ERRORS, sqlalchemy.exc.DataError):
        app.add_exception_handler(unavailable, _handle)
    app.add_exception_handler(Exception, _handle)
