"""Input hygiene at the edge, for every route: path and query parameters and every string of a
JSON body are checked for control characters (`domain.text`) before any route runs, and a hit is
a 422 naming the field, in the shape of request validation errors. What reaches a workflow or
the store is then text the database takes."""

from __future__ import annotations

import json

from fastapi import Request
from fastapi.exceptions import RequestValidationError

from domain.text import (
    CONTROL_CHARACTER_MESSAGE,
    control_character_locations,
    has_control_characters,
)

ERROR_TYPE = "control_characters"


def _error(loc: tuple[str | int, ...]) -> dict[str, object]:
    return {"loc": loc, "msg": CONTROL_CHARACTER_MESSAGE, "type": ERROR_TYPE}


async def refuse_control_characters(request: Request) -> None:
    errors = [
        _error(("path", name))
        for name, value in request.path_params.items()
        if isinstance(value, str) and has_control_characters(value, single_line=True)
    ]
    errors += [
        _error(("query", name))
        for name, value in request.query_params.multi_items()
        if has_control_characters(name + value, single_line=True)
    ]
    content_type = request.headers.get("content-type", "")
    if "json" in content_type:
        try:
            document = json.loads(await request.body())
        except (ValueError, UnicodeDecodeError):
            document = None  # malformed JSON: the route's own validation answers it
        errors += [_error(("body", *loc)) for loc in control_character_locations(document)]
    if errors:
        raise RequestValidationError(errors)
