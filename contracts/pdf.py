"""The loan contract PDF (stage 8): parties, loan terms, APR and the full repayment schedule.

Pure rendering with reportlab. Chinese text uses the built-in CID font STSong-Light (Adobe-GB1,
no font file to ship). The output is a function of the input alone: reportlab's invariant mode
fixes the document id and the creation date is taken from `ContractInput.generated_at`, so a
retried activity produces the same bytes, hence the same hash and blob key.
"""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta, timezone
from functools import partial
from typing import Any
from xml.sax.saxutils import escape

from pyhanko.pdf_utils.reader import PdfFileReader
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Flowable, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from domain.contract import ContractInput
from domain.pricing import Schedule

FONT = "STSong-Light"
pdfmetrics.registerFont(UnicodeCIDFont(FONT))

DEFAULT_LENDER_NAME = "示例小额贷款有限公司"
# Contract dates are the lender's local (China Standard Time, no daylight saving) calendar day.
CHINA_TIME = timezone(timedelta(hours=8), "CST")

_BODY = ParagraphStyle("body", fontName=FONT, fontSize=10, leading=15, wordWrap="CJK")
_TITLE = ParagraphStyle("title", parent=_BODY, fontSize=18, leading=26, alignment=TA_CENTER)
_HEADING = ParagraphStyle("heading", parent=_BODY, fontSize=12, leading=20, spaceBefore=6)
_CELL = ParagraphStyle("cell", parent=_BODY, fontSize=9, leading=12)
_GRID = colors.Color(0.55, 0.55, 0.55)
_GAP = "&nbsp;" * 6  # paragraphs collapse ordinary and ideographic spaces

_CLAUSES = (
    "放款：本合同生效且乙方通过放款前核查后，甲方将借款金额发放至乙方本人名下并经验证的银行卡，"
    "款项到账之日为放款日，自该日起计息。",
    "还款：乙方应于放款日在以后各月的对应日（当月无对应日的，为当月最后一日）按上表金额足额还款，"
    "甲方按先费用、后利息、再本金的顺序冲抵。",
    "提前还款：乙方可随时提前偿还全部剩余本金，利息按实际借款天数计算，甲方不收取提前还款违约金。",
    "逾期：乙方未按期足额还款的，甲方有权对逾期本金按本合同年利率计收逾期利息，"
    "借款人承担的全部利息与费用合计不超过法律规定的上限；甲方可依法向征信机构报送相关信息。",
    "年化利率：本合同所示年化利率按内部收益率（IRR）法计算，已包含乙方须承担的全部利息与费用，"
    "除本合同列明者外，甲方不向乙方收取任何其他费用。",
    "个人信息：甲方依据乙方授权及法律法规处理乙方个人信息，仅用于本笔借款的审核、放款、还款与"
    "依法报送，并采取加密等安全措施保护。",
    "电子签署：本合同以电子方式订立，乙方以电子签名签署、甲方加盖电子印章后生效，"
    "与纸质合同具有同等法律效力。",
    "争议解决：因本合同引起的争议，双方应协商解决；协商不成的，任何一方可向甲方住所地有管辖权的"
    "人民法院提起诉讼。",
)


def yuan(fen: int) -> str:
    """Integer fen as yuan with two decimals and thousands separators, without floats."""
    sign = "-" if fen < 0 else ""
    whole, cents = divmod(abs(fen), 100)
    return f"{sign}{whole:,}.{cents:02d}"


def percent(rate: float) -> str:
    return f"{rate * 100:.2f}%"


def contract_number(application_id: str) -> str:
    return f"LF-{application_id}"


def page_count(pdf: bytes) -> int:
    return int(PdfFileReader(io.BytesIO(pdf)).root["/Pages"]["/Count"])


class _ContractCanvas(Canvas):
    """Holds pages back until the end so each footer can say "page x of y"."""

    def __init__(self, *args: Any, footer: str, created: datetime, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        stamp = created.astimezone(UTC)
        # reportlab's invariant mode dates every document 2000-01-01; the real date is an input.
        self.setDateFormatter(lambda *_: f"D:{stamp:%Y%m%d%H%M%S}+00'00'")
        self._footer = footer
        self._pages: list[dict[str, Any]] = []

    def showPage(self) -> None:  # noqa: N802 - reportlab's name
        self._pages.append(dict(self.__dict__))
        self._startPage()

    def save(self) -> None:
        total = len(self._pages)
        for number, state in enumerate(self._pages, start=1):
            self.__dict__.update(state)
            self.setFont(FONT, 8)
            self.setFillColor(colors.grey)
            self.drawCentredString(
                A4[0] / 2, 12 * mm, f"{self._footer}    第 {number} 页 / 共 {total} 页"
            )
            super().showPage()
        super().save()


def _p(text: str, style: ParagraphStyle = _BODY) -> Paragraph:
    return Paragraph(text, style)


def _key_value_table(rows: list[tuple[str, str]]) -> Table:
    table = Table(
        [[_p(escape(k), _CELL), _p(escape(v), _CELL)] for k, v in rows],
        colWidths=[58 * mm, 112 * mm],
    )
    table.setStyle(
        TableStyle(
            [
                ("GRID", (0, 0), (-1, -1), 0.4, _GRID),
                ("BACKGROUND", (0, 0), (0, -1), colors.Color(0.95, 0.95, 0.95)),
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
            ]
        )
    )
    return table


def _loan_terms(inp: ContractInput) -> list[tuple[str, str]]:
    s = inp.schedule
    rows = [
        ("借款产品", inp.product_name),
        ("借款金额", f"人民币 {yuan(s.principal)} 元"),
        ("借款期限", f"{s.term_months} 个月（共 {s.term_months} 期）"),
        ("还款方式", "等额本息，按月还款"),
        ("年利率（单利，按剩余本金计息）", percent(s.annual_rate)),
    ]
    if s.monthly_fee_rate:
        rows.append(("月服务费率（按借款金额）", percent(s.monthly_fee_rate)))
    if s.upfront_fee:
        rows.append(("放款时一次性收取的费用", f"{yuan(s.upfront_fee)} 元"))
        rows.append(("实际到账金额", f"{yuan(s.principal - s.upfront_fee)} 元"))
    rows += [
        ("年化利率（IRR，含全部费用）", percent(s.apr)),
        ("利息总额", f"{yuan(s.total_interest)} 元"),
        ("费用总额", f"{yuan(s.total_fees)} 元"),
        ("还款总额", f"{yuan(s.total_repayment)} 元"),
    ]
    return rows


def _schedule_table(s: Schedule) -> Table:
    rows: list[list[str]] = [
        ["期数", "还款金额（元）", "本金（元）", "利息（元）", "服务费（元）", "剩余本金（元）"]
    ]
    rows += [
        [
            str(r.period),
            yuan(r.payment),
            yuan(r.principal),
            yuan(r.interest),
            yuan(r.fee),
            yuan(r.remaining_principal),
        ]
        for r in s.installments
    ]
    rows.append(
        [
            "合计",
            yuan(sum(r.payment for r in s.installments)),
            yuan(sum(r.principal for r in s.installments)),
            yuan(s.total_interest),
            yuan(sum(r.fee for r in s.installments)),
            "",
        ]
    )
    table = Table(rows, colWidths=[16 * mm] + [30.8 * mm] * 5, repeatRows=1)
    table.setStyle(
        TableStyle(
            [
                ("FONT", (0, 0), (-1, -1), FONT, 9),
                ("GRID", (0, 0), (-1, -1), 0.4, _GRID),
                ("BACKGROUND", (0, 0), (-1, 0), colors.Color(0.92, 0.92, 0.92)),
                ("BACKGROUND", (0, -1), (-1, -1), colors.Color(0.96, 0.96, 0.96)),
                ("ALIGN", (0, 0), (-1, 0), "CENTER"),
                ("ALIGN", (0, 1), (0, -1), "CENTER"),
                ("ALIGN", (1, 1), (-1, -1), "RIGHT"),
            ]
        )
    )
    return table


def _signatures(inp: ContractInput, lender_name: str) -> Table:
    table = Table(
        [
            [
                _p(f"甲方（贷款人）：{escape(lender_name)}"),
                _p(f"乙方（借款人）：{escape(inp.applicant.full_name)}"),
            ],
            [_p("电子印章："), _p("电子签名：")],
            [_p("日期：____年__月__日"), _p("日期：____年__月__日")],
        ],
        colWidths=[85 * mm, 85 * mm],
        rowHeights=[None, 20 * mm, 10 * mm],
    )
    table.setStyle(
        TableStyle(
            [
                ("BOX", (0, 0), (0, -1), 0.4, _GRID),
                ("BOX", (1, 0), (1, -1), 0.4, _GRID),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ]
        )
    )
    return table


def _story(inp: ContractInput, lender_name: str) -> list[Flowable]:
    signed_on = inp.generated_at.astimezone(CHINA_TIME).date()
    number = contract_number(inp.application_id)
    story: list[Flowable] = [
        _p("个人借款合同", _TITLE),
        _p(f"合同编号：{escape(number)}{_GAP}生成日期：{signed_on:%Y年%m月%d日}"),
        Spacer(1, 4 * mm),
        _p("一、合同双方", _HEADING),
        _key_value_table(
            [
                ("贷款人（甲方）", lender_name),
                ("借款人（乙方）", inp.applicant.full_name),
                ("身份证号码", inp.applicant.id_number),
                ("手机号码", inp.applicant.phone),
            ]
        ),
        _p("二、借款信息", _HEADING),
        _key_value_table(_loan_terms(inp)),
        _p("三、还款计划", _HEADING),
        _p("以下为本合同的完整还款计划，与乙方接受要约前所见报价一致；各期还款日见第四条第二款。"),
        Spacer(1, 2 * mm),
        _schedule_table(inp.schedule),
        _p("四、主要条款", _HEADING),
    ]
    story += [_p(f"{i}. {clause}") for i, clause in enumerate(_CLAUSES, start=1)]
    story += [Spacer(1, 6 * mm), _p("五、签署", _HEADING), _signatures(inp, lender_name)]
    return story


def render_contract(inp: ContractInput, lender_name: str = DEFAULT_LENDER_NAME) -> bytes:
    """The contract as PDF bytes; identical bytes for identical inputs."""
    buffer = io.BytesIO()
    number = contract_number(inp.application_id)
    doc = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=20 * mm,
        rightMargin=20 * mm,
        topMargin=18 * mm,
        bottomMargin=22 * mm,
        invariant=True,
        # metadata is visible to any PDF reader: no borrower data in it
        title=f"个人借款合同 {number}",
        author=lender_name,
        subject="个人借款合同",
        creator="loanflow",
    )
    doc.build(
        _story(inp, lender_name),
        canvasmaker=partial(_ContractCanvas, footer=f"合同编号 {number}", created=inp.generated_at),
    )
    return buffer.getvalue()
