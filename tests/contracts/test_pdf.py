"""The contract PDF: what a borrower reads in it, and the same bytes for the same inputs."""

from __future__ import annotations

from datetime import UTC, datetime
from itertools import pairwise

import pytest

from contracts.pdf import contract_number, page_count, percent, render_contract, yuan
from domain.contract import ContractInput
from domain.pricing import build_schedule
from tests.contracts.pdftext import page_texts, pdf_text

GENERATED_AT = datetime(2026, 11, 3, 9, 30, tzinfo=UTC)


def contract_input(full_name: str = "欧阳娜娜", **changes: object) -> ContractInput:
    fields: dict[str, object] = {
        "application_id": "01JC8Z5K3Q",
        "applicant": {
            "full_name": full_name,
            "id_number": "11010519491231002X",
            "phone": "13800138000",
        },
        "product_name": "标准现金贷",
        "schedule": build_schedule(4_800_000, 24, 0.22, upfront_fee=10_000),
        "generated_at": GENERATED_AT,
    }
    fields.update(changes)
    return ContractInput.model_validate(fields)


@pytest.fixture(scope="module")
def rendered() -> tuple[ContractInput, bytes]:
    inp = contract_input()
    return inp, render_contract(inp, "测试小额贷款有限公司")


def test_money_is_formatted_from_integer_fen() -> None:
    assert yuan(0) == "0.00"
    assert yuan(5) == "0.05"
    assert yuan(4_800_000) == "48,000.00"
    assert yuan(123_456_789) == "1,234,567.89"
    assert yuan(-1_050) == "-10.50"
    assert percent(0.222157) == "22.22%"


def test_it_is_a_pdf_with_a_page_count(rendered: tuple[ContractInput, bytes]) -> None:
    _, pdf = rendered
    assert pdf.startswith(b"%PDF-") and pdf.rstrip().endswith(b"%%EOF")
    assert page_count(pdf) == len(page_texts(pdf)) == 2


def test_parties_and_loan_terms_are_printed(rendered: tuple[ContractInput, bytes]) -> None:
    inp, pdf = rendered
    text = pdf_text(pdf)
    s = inp.schedule
    for expected in [
        "个人借款合同",
        f"合同编号：{contract_number(inp.application_id)}",
        "生成日期：2026年11月03日",
        "测试小额贷款有限公司",
        "欧阳娜娜",
        "11010519491231002X",
        "13800138000",
        "标准现金贷",
        "人民币 48,000.00 元",
        "24 个月（共 24 期）",
        "22.00%",
        percent(s.apr),
        f"{yuan(s.total_interest)} 元",
        f"{yuan(s.total_fees)} 元",
        f"{yuan(s.total_repayment)} 元",
        "100.00 元",  # the upfront fee
        "47,900.00 元",  # what actually reaches the borrower
        "甲方（贷款人）：测试小额贷款有限公司",
        "乙方（借款人）：欧阳娜娜",
        "电子印章：",
        "电子签名：",
    ]:
        assert expected in text, expected
    assert s.apr > s.annual_rate  # the upfront fee shows in the APR, not hidden


def test_every_schedule_row_is_printed_with_the_schedule_numbers(
    rendered: tuple[ContractInput, bytes],
) -> None:
    inp, pdf = rendered
    cells = [cell for page in page_texts(pdf) for cell in page]
    for row in inp.schedule.installments:
        expected = [
            str(row.period),
            yuan(row.payment),
            yuan(row.principal),
            yuan(row.interest),
            yuan(row.fee),
            yuan(row.remaining_principal),
        ]
        start = cells.index(str(row.period), cells.index("剩余本金（元）"))
        while cells[start : start + 6] != expected:
            start = cells.index(str(row.period), start + 1)
    totals = cells[cells.index("合计") : cells.index("合计") + 5]
    assert totals == [
        "合计",
        yuan(inp.schedule.total_repayment),
        yuan(inp.schedule.principal),
        yuan(inp.schedule.total_interest),
        "0.00",
    ]


def test_footer_numbers_the_pages(rendered: tuple[ContractInput, bytes]) -> None:
    inp, pdf = rendered
    pages = page_texts(pdf)
    for number, page in enumerate(pages, start=1):
        assert any(f"第 {number} 页 / 共 {len(pages)} 页" in line for line in page)


def test_monthly_fees_are_shown_when_the_price_has_them() -> None:
    schedule = build_schedule(1_000_000, 6, 0.10, monthly_fee_rate=0.003)
    text = pdf_text(render_contract(contract_input(schedule=schedule)))
    assert "月服务费率（按借款金额）" in text and "0.30%" in text
    assert "3,000.00" not in text and "30.00" in text  # 0.3% of 10,000 yuan each month
    assert "实际到账金额" not in text  # no upfront fee, nothing deducted


def test_same_inputs_give_the_same_bytes(rendered: tuple[ContractInput, bytes]) -> None:
    inp, pdf = rendered
    assert render_contract(contract_input(), "测试小额贷款有限公司") == pdf
    # the creation date is the input's, not the wall clock's
    assert b"D:20261103093000+00'00'" in pdf


def test_different_inputs_give_different_bytes(rendered: tuple[ContractInput, bytes]) -> None:
    _, pdf = rendered
    later = contract_input(generated_at=datetime(2026, 11, 4, 9, 30, tzinfo=UTC))
    assert render_contract(later, "测试小额贷款有限公司") != pdf
    other = contract_input(full_name="李四")
    assert "李四" in pdf_text(render_contract(other, "测试小额贷款有限公司"))


def test_markup_in_names_is_printed_literally() -> None:
    text = pdf_text(render_contract(contract_input(full_name="A<b>&C"), "L&<i>"))
    assert "A<b>&C" in text and "L&<i>" in text


def test_a_long_schedule_flows_onto_more_pages() -> None:
    inp = contract_input(schedule=build_schedule(5_000_000, 60, 0.18))
    pdf = render_contract(inp)
    assert page_count(pdf) >= 3
    rows = {(str(r.period), yuan(r.payment)) for r in inp.schedule.installments}
    table_pages = [page for page in page_texts(pdf) if any(pair in rows for pair in pairwise(page))]
    assert len(table_pages) >= 2
    for page in table_pages:
        assert "期数" in page  # the header repeats on every page the table reaches
    found = {pair for page in table_pages for pair in pairwise(page)} & rows
    assert found == rows
