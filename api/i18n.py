"""The applicant's language: Chinese unless `Accept-Language` prefers English."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header

from domain.reasons import Language


def preferred_language(header: str | None) -> Language:
    """The supported language with the highest quality in an `Accept-Language` header."""
    best, best_q = Language.ZH, -1.0
    for part in (header or "").split(","):
        tag, _, params = part.strip().partition(";")
        q = 1.0
        if params.strip().startswith("q="):
            try:
                q = float(params.strip()[2:])
            except ValueError:
                continue
        primary = tag.strip().lower().split("-")[0]
        if primary in ("zh", "en") and q > best_q:
            best, best_q = Language(primary), q
    return best


def _language(
    accept_language: Annotated[
        str | None, Header(description="`en` for English messages; Chinese by default")
    ] = None,
) -> Language:
    return preferred_language(accept_language)


LanguageDep = Annotated[Language, Depends(_language)]
