"""A credit line's borrower: one `Applicant` for the person, and lines opened before that change
(name, number and phone beside the other fields, in workflow histories and continue-as-new
states) still read."""

from __future__ import annotations

from domain.identity import Applicant
from domain.lines import Borrower
from domain.offer import BankCard

CARD = BankCard(number="6222020200112233445", bank_code="ICBC", reserved_phone="13800138000")


def test_a_borrower_written_before_the_applicant_model_reads_into_one() -> None:
    old = {
        "customer_id": "cust-1",
        "full_name": "欧阳明",
        "id_number": "11010519491231002X",
        "phone": "13800138000",
        "device_fingerprint": "device-fp-0001",
        "card": CARD.model_dump(),
    }
    borrower = Borrower.model_validate(old)
    assert borrower.applicant == Applicant(
        full_name="欧阳明", id_number="11010519491231002X", phone="13800138000"
    )
    assert "full_name" not in borrower.model_dump()


def test_a_borrower_round_trips_in_the_new_shape() -> None:
    borrower = Borrower(
        customer_id="cust-2",
        applicant=Applicant(full_name="李雷", id_number="11010519491231002X", phone="13900139000"),
        device_fingerprint="device-fp-0002",
        card=CARD,
    )
    assert Borrower.model_validate_json(borrower.model_dump_json()) == borrower
