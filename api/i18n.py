"""The applicant's language: Chinese unless `Accept-Language` prefers English; the reasons a
workflow worded are worded again in it."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header

from domain.line_messages import DrawView, LineView
from domain.reasons import ApplicantReason, Language, applicant_reasons


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


def localised(reasons: list[ApplicantReason], language: Language) -> list[ApplicantReason]:
    """Reasons a workflow worded (in English) in the language the caller asked for."""
    return applicant_reasons([r.code for r in reasons], language)


def line_view_in(view: LineView, language: Language) -> LineView:
    draws = [d.model_copy(update={"reasons": localised(d.reasons, language)}) for d in view.draws]
    return view.model_copy(update={"reasons": localised(view.reasons, language), "draws": draws})


def draw_view_in(view: DrawView, language: Language) -> DrawView:
    return view.model_copy(update={"reasons": localised(view.reasons, language)})
