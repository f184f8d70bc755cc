"""Equal-installment repayment schedules and APR as the IRR of every cash flow.

Money is in integer fen (1/100 yuan) so a schedule always sums to the principal exactly.
"""

from __future__ import annotations

from pydantic import BaseModel, Field

APR_LEGAL_CAP = 0.36


class Installment(BaseModel):
    period: int
    payment: int
    principal: int
    interest: int
    fee: int
    remaining_principal: int


class Schedule(BaseModel):
    principal: int = Field(description="amount lent, in fen")
    term_months: int
    annual_rate: float = Field(description="nominal yearly interest rate on the reducing balance")
    monthly_fee_rate: float = Field(description="fee per month, as a fraction of the principal")
    upfront_fee: int = Field(default=0, description="fee deducted at disbursement, in fen")
    installments: list[Installment]
    total_interest: int
    total_fees: int
    total_repayment: int
    apr: float = Field(description="IRR of all cash flows, annualised as monthly IRR x 12")


class PriceAboveCap(ValueError):
    pass


def build_schedule(
    principal: int,
    term_months: int,
    annual_rate: float,
    monthly_fee_rate: float = 0.0,
    upfront_fee: int = 0,
    apr_cap: float = APR_LEGAL_CAP,
) -> Schedule:
    """Equal monthly installments (等额本息); refuses a price whose APR is above the cap."""
    if principal <= 0 or term_months <= 0:
        raise ValueError("principal and term must be positive")
    if annual_rate < 0 or monthly_fee_rate < 0 or upfront_fee < 0:
        raise ValueError("rates and fees cannot be negative")
    if upfront_fee >= principal:
        # Nothing would reach the borrower: the IRR is undefined, not merely high.
        raise ValueError("the upfront fee must be less than the principal")
    r = annual_rate / 12
    discount = 1 - (1 + r) ** -term_months
    if r == 0 or discount == 0:  # a rate so small that floating point cannot tell it from 0
        level = principal / term_months
    else:
        level = principal * r / discount
    fee = round(principal * monthly_fee_rate)
    remaining = principal
    rows: list[Installment] = []
    for period in range(1, term_months + 1):
        interest = round(remaining * r)
        if period == term_months:
            part = remaining
        else:
            part = min(remaining, round(level) - interest)
        remaining -= part
        rows.append(
            Installment(
                period=period,
                payment=part + interest + fee,
                principal=part,
                interest=interest,
                fee=fee,
                remaining_principal=remaining,
            )
        )
    apr = irr_apr(principal - upfront_fee, [row.payment for row in rows])
    if apr > apr_cap + 1e-9:
        raise PriceAboveCap(f"APR {apr:.4f} is above the cap {apr_cap:.4f}")
    total_interest = sum(row.interest for row in rows)
    total_fees = sum(row.fee for row in rows) + upfront_fee
    return Schedule(
        principal=principal,
        term_months=term_months,
        annual_rate=annual_rate,
        monthly_fee_rate=monthly_fee_rate,
        upfront_fee=upfront_fee,
        installments=rows,
        total_interest=total_interest,
        total_fees=total_fees,
        total_repayment=sum(row.payment for row in rows),
        apr=apr,
    )


def irr_apr(received: int, payments: list[int]) -> float:
    """Monthly IRR x 12 of receiving `received` now and paying `payments` monthly."""

    def npv(rate: float) -> float:
        return -received + sum(p / (1 + rate) ** (i + 1) for i, p in enumerate(payments))

    low, high = 0.0, 1.0
    if npv(low) <= 0:
        return 0.0
    for _ in range(200):
        mid = (low + high) / 2
        if npv(mid) > 0:
            low = mid
        else:
            high = mid
    return round((low + high) / 2 * 12, 6)
