"""Error bodies of the simulators: `{"error": CODE, "message": text}`, like the vendors send.

Request validation failures become 400 `INVALID_REQUEST` naming only the fields, because
FastAPI's default 422 body echoes the input, which here is personal data.
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from domain.idnumber import InvalidIdNumber, parse_id_number


class VendorHTTPError(Exception):
    def __init__(self, status_code: int, error: str, message: str = "") -> None:
        super().__init__(error)
        self.status_code = status_code
        self.error = error
        self.message = message or error


def error_response(status_code: int, error: str, message: str = "") -> JSONResponse:
    return JSONResponse({"error": error, "message": message or error}, status_code=status_code)


def require_id_number(value: str) -> str:
    try:
        return parse_id_number(value).value
    except InvalidIdNumber as exc:
        raise VendorHTTPError(400, "INVALID_ID_NUMBER", str(exc)) from exc


def install_error_handlers(app: FastAPI) -> None:
    async def on_vendor_error(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, VendorHTTPError)
        return error_response(exc.status_code, exc.error, exc.message)

    async def on_invalid_request(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        fields = sorted({".".join(str(p) for p in err["loc"][1:]) for err in exc.errors()})
        return error_response(400, "INVALID_REQUEST", "invalid fields: " + ", ".join(fields))

    app.add_exception_handler(VendorHTTPError, on_vendor_error)
    app.add_exception_handler(RequestValidationError, on_invalid_request)
