"""The one place where failures become HTTP answers, in one model for every 4xx and 5xx
(`ErrorBody`): `code`, `message`, `status` (the application's stage, where it applies), `errors`
(the field list of a refused request) and step-specific extras such as `attempts_left`.

Routes and the workflow client (`api/application_workflows.py`) raise `ApiError`s (or let
validation and pricing errors through); `install_error_handlers` maps every one of them.
Messages never carry request bodies: those hold personal data. `error` and `detail` repeat
`code` and the old free-form detail for clients written before the model (deprecated).
"""

from __future__ import annotations

import logging
from typing import Any

import sqlalchemy.exc
from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from domain.pricing import PriceAboveCap
from store.blob_crypto import BlobDecryptionError, UnknownBlobKey

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


class FieldError(BaseModel):
    loc: list[str | int] = Field(description="where: `body`, `query`, `path`, then field names")
    msg: str
    type: str


class ErrorBody(BaseModel):
    """Every error answer of the API."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "code": "wrong_stage",
                    "message": "not accepted in stage MANUAL_REVIEW",
                    "status": "MANUAL_REVIEW",
                    "error": "wrong_stage",
                    "detail": "not accepted in stage MANUAL_REVIEW",
                },
                {
                    "code": "invalid_request",
                    "message": "the request has invalid fields",
                    "errors": [
                        {
                            "loc": ["body", "term_months"],
                            "msg": "must be one of [3, 6, 12]",
                            "type": "not_allowed",
                        }
                    ],
                    "error": "invalid_request",
                },
            ]
        }
    )

    code: str = Field(description="stable machine-readable identifier, e.g. `wrong_stage`")
    message: str = Field(description="what went wrong, for a developer or a log")
    status: str | None = Field(
        default=None, description="the application's current status, where it applies (409)"
    )
    errors: list[FieldError] | None = Field(
        default=None, description="the refused fields of an invalid request (422)"
    )
    attempts_left: int | None = Field(default=None, description="a step with limited attempts")
    error: str = Field(
        description="deprecated: the same as `code`", json_schema_extra={"deprecated": True}
    )
    detail: Any = Field(
        default=None,
        description="deprecated: `message`, or `errors` for an invalid request",
        json_schema_extra={"deprecated": True},
    )


_DESCRIPTIONS = {
    400: "bad request",
    401: "missing or wrong credentials",
    403: "signed in without the role this needs",
    404: "no such resource",
    409: "wrong stage or finished: `status` is the current one",
    413: "body above the size limit",
    415: "unsupported media type",
    422: "invalid request (`errors` lists the fields), or the step was refused (`code` says why)",
    503: "a service this needs is unavailable, or a stored document unreadable; try again",
    504: "the application did not answer in time; try again",
}


def error_docs(*codes: int, **described: str) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` for the given error statuses, all with the `ErrorBody` model;
    `described` overrides a description (`_404="..."`)."""
    out: dict[int | str, dict[str, Any]] = {}
    for code in codes:
        text = described.get(f"_{code}", _DESCRIPTIONS.get(code, "error"))
        out[code] = {"model": ErrorBody, "description": text}
    return out


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
    if isinstance(detail, list):
        message, errors = "the request has invalid fields", detail
    else:
        message, errors = (str(detail) if detail else code.replace("_", " ")), None
    body = {"code": code, "message": message, **extra, "error": code, "detail": detail}
    if errors is not None:
        body["errors"] = errors
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
    if isinstance(exc, BlobDecryptionError):
        # Not the caller's fault, and not fixed by the caller: the operator restores the object
        # or configures its key id, so the answer is "try later", never a 500.
        logger.error("blob unreadable on %s: %s", request.url.path, exc)
        if isinstance(exc, UnknownBlobKey):
            code, message = "blob_key_unavailable", "the document's key id is not configured"
        else:
            code, message = "document_damaged", "the stored document is damaged and unreadable"
        return error_response(503, code, message, {"Retry-After": str(RETRY_AFTER_SECONDS)})
    if isinstance(exc, sqlalchemy.exc.DataError):
        return error_response(422, "invalid_request", "the store refused a value of the request")
    if isinstance(exc, RequestValidationError):
        return error_response(422, "invalid_request", _validation_detail(exc))
    if isinstance(exc, PriceAboveCap):
        return error_response(422, "price_above_cap", str(exc))
    if isinstance(exc, StarletteHTTPException):
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        return error_response(
            exc.status_code, code, exc.detail, dict(exc.headers) if exc.headers else None
        )
    logger.exception("unhandled error on %s %s", request.method, request.url.path)
    return error_response(500, "internal")


def install_error_handlers(app: FastAPI) -> None:
    handled = (ApiError, RequestValidationError, PriceAboveCap, StarletteHTTPException)
    for kind in (*handled, BlobDecryptionError):
        app.add_exception_handler(kind, _handle)
    for unavailable in (*UNAVAILABLE_ERRORS, sqlalchemy.exc.DataError):
        app.add_exception_handler(unavailable, _handle)
    app.add_exception_handler(Exception, _handle)
