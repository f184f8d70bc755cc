"""Text the system accepts from outside: no control characters (a NUL byte is refused by
PostgreSQL on every retry, others corrupt logs and documents) and no lone surrogates (they
cannot be encoded as UTF-8). Tab, line feed and carriage return are allowed only in the free-text
fields a person writes (`FREE_TEXT_FIELDS`)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

_FORBIDDEN = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")
_FORBIDDEN_SINGLE_LINE = re.compile(r"[\x00-\x1f\x7f\ud800-\udfff]")

FREE_TEXT_FIELDS = frozenset({"note", "reason", "detail"})
CONTROL_CHARACTER_MESSAGE = "control characters and unpaired surrogates are not allowed"


def has_control_characters(value: str, *, single_line: bool = False) -> bool:
    pattern = _FORBIDDEN_SINGLE_LINE if single_line else _FORBIDDEN
    return pattern.search(value) is not None


def refuse_control_characters(value: str) -> str:
    """A pydantic `AfterValidator` for one field."""
    if has_control_characters(value):
        raise ValueError(CONTROL_CHARACTER_MESSAGE)
    return value


def control_character_locations(
    value: Any, at: tuple[str | int, ...] = ()
) -> Iterator[tuple[str | int, ...]]:
    """Where, in a decoded JSON document, a string (or an object key) holds a forbidden
    character."""
    if isinstance(value, str):
        free_text = bool(at) and at[-1] in FREE_TEXT_FIELDS
        if has_control_characters(value, single_line=not free_text):
            yield at
    elif isinstance(value, dict):
        for key, item in value.items():
            if isinstance(key, str) and has_control_characters(key, single_line=True):
                yield (*at, key)
            else:
                yield from control_character_locations(item, (*at, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from control_character_locations(item, (*at, index))
