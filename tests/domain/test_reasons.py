"""Applicant messages: every reason code's message has its Chinese text (applicants read
Chinese first, English is the alternative chosen by Accept-Language)."""

from __future__ import annotations

from domain.reasons import REASONS, Language, ReasonCode, applicant_message


def test_every_reason_has_a_chinese_message() -> None:
    untranslated = [
        code.value
        for code in ReasonCode
        if applicant_message(code, Language.ZH) == REASONS[code].applicant_message
    ]
    assert untranslated == []


def test_english_is_the_alternative() -> None:
    code = ReasonCode.M009_LINE_EXPIRED
    assert applicant_message(code, Language.EN) == REASONS[code].applicant_message
    assert applicant_message(code) == "您的额度已到期，您可以重新申请。"
