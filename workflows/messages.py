"""The rules of the messages a loan application accepts: applicant steps and ops review outcomes
(updates), the payout child's call for a new card (a signal) and the `status` query.

The handlers are methods of `LoanApplicationWorkflow` (Temporal finds them on the class); what
they accept is decided here, as functions of the application's state. A validator refuses a
message in the wrong stage or with invalid content synchronously, so it never enters history;
the API maps WRONG_STAGE to 409 and INVALID_INPUT to 422. Handlers that call a vendor hold a lock
and check again, because two requests may pass the validator together. The input models are
message models shared with the API, in `domain/`.
"""

from __future__ import annotations

from datetime import datetime
from typing import NoReturn

from temporalio import workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from domain.decision import Offer, ReviewInput
    from domain.enums import APPLICANT_DOCUMENTS, ApplicationStatus
    from domain.identity import SubmitDocumentsInput
    from domain.idnumber import InvalidIdNumber, parse_id_number
    from domain.naming import ErrorType
    from domain.offer import AcceptOfferInput
    from domain.pricing import PriceAboveCap, Schedule, build_schedule
    from workflows.state import ApplicationState

WITHDRAWABLE = frozenset(
    {
        ApplicationStatus.SUBMITTED,
        ApplicationStatus.AWAITING_DOCUMENTS,
        ApplicationStatus.VERIFYING_IDENTITY,
        ApplicationStatus.AWAITING_CARRIER_AUTH,
        ApplicationStatus.DECISIONING,
        ApplicationStatus.MANUAL_REVIEW,
        ApplicationStatus.OFFERED,
        ApplicationStatus.AWAITING_SIGNATURE,
    }
)


def invalid(detail: str) -> NoReturn:
    raise ApplicationError(detail, type=ErrorType.INVALID_INPUT, non_retryable=True)


def require(state: ApplicationState, *statuses: ApplicationStatus) -> None:
    """The stage guard: the refusal carries the current stage for the API's 409."""
    if state.status not in statuses:
        raise ApplicationError(
            f"not accepted in stage {state.status}",
            str(state.status),
            type=ErrorType.WRONG_STAGE,
            non_retryable=True,
        )


def check_documents(state: ApplicationState, inp: SubmitDocumentsInput) -> None:
    require(state, ApplicationStatus.AWAITING_DOCUMENTS)
    kinds = [d.kind for d in inp.documents]
    missing = [k.value for k in APPLICANT_DOCUMENTS if k not in kinds]
    if missing or len(kinds) != len(set(kinds)):
        invalid(f"exactly one of each document is needed; missing: {missing}")
    try:
        parse_id_number(inp.id_number)
    except InvalidIdNumber as exc:
        invalid(f"ID number: {exc}")


def check_carrier_sms(state: ApplicationState) -> None:
    require(state, ApplicationStatus.AWAITING_CARRIER_AUTH)
    if state.carrier_task_id is not None:
        invalid("carrier data is already authorized")


def check_carrier_code(state: ApplicationState) -> None:
    check_carrier_sms(state)
    if state.carrier_attempts_left <= 0:
        invalid("no authorization attempts left")


def check_review(state: ApplicationState, inp: ReviewInput) -> None:
    require(state, ApplicationStatus.MANUAL_REVIEW)
    if state.review is not None:
        # A decided round is a conflict with the current state, not a malformed message.
        raise ApplicationError(
            "this review round already has an outcome",
            str(state.status),
            type=ErrorType.WRONG_STAGE,
            non_retryable=True,
        )
    if inp.approved_limit is not None and state.offer is not None:
        if inp.approved_limit > state.offer.limit:
            invalid("a reviewer may lower the limit, not raise it")
        if inp.approved_limit < state.inp.product.min_amount:
            invalid("approved limit is below the product minimum")


def check_accept(state: ApplicationState, inp: AcceptOfferInput, now: datetime) -> Schedule:
    """The offer may be accepted as asked; returns the schedule the contract will carry."""
    require(state, ApplicationStatus.OFFERED)
    offer = state.offer
    assert offer is not None
    if state.accepted is not None:
        invalid("the offer is already accepted")
    if offer.expires_at is not None and now >= offer.expires_at:
        invalid("the offer has expired")
    if not offer.min_amount <= inp.amount <= offer.limit:
        invalid(f"amount must be between {offer.min_amount} and {offer.limit} fen")
    if inp.term_months not in offer.terms:
        invalid(f"term must be one of {offer.terms}")
    return quote(inp, offer)


def quote(inp: AcceptOfferInput, offer: Offer) -> Schedule:
    """The repayment schedule of an accepted amount and term: the same one `POST /v1/quotes`
    shows before acceptance."""
    try:
        return build_schedule(
            inp.amount,
            inp.term_months,
            offer.annual_rate,
            offer.monthly_fee_rate,
            apr_cap=offer.apr_cap,
        )
    except (ValueError, PriceAboveCap) as exc:
        invalid(str(exc))


def check_sign(state: ApplicationState) -> None:
    require(state, ApplicationStatus.AWAITING_SIGNATURE)
    if state.envelope_id is None or state.signed_contract is not None:
        invalid("the contract is not waiting for a signature")
    if state.esign_attempts_left <= 0:
        invalid("no signing attempts left")


def check_withdraw(state: ApplicationState) -> None:
    require(state, *WITHDRAWABLE)


def check_new_card(state: ApplicationState) -> None:
    require(state, ApplicationStatus.DISBURSING)
    if state.needs_card is None:
        invalid("no new card is needed")
