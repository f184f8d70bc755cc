"""Reason codes: stable identifiers with an internal meaning, an applicant-safe message and
the number of days before the applicant may apply again."""

from __future__ import annotations

from datetime import date, timedelta
from enum import StrEnum

from pydantic import BaseModel


class ReasonCode(StrEnum):
    # pre-screen
    P001_BLACKLISTED = "P001"
    P002_VELOCITY_DEVICE = "P002"
    P003_VELOCITY_PHONE = "P003"
    P004_COOL_DOWN = "P004"
    P005_DEVICE_RISK = "P005"
    P006_MULTIPLE_ACCOUNTS = "P006"
    P007_LOCATION_RISK = "P007"
    P008_COURT_DISHONEST_DEBTOR = "P008"
    # identity
    I001_ID_NUMBER_INVALID = "I001"
    I002_IDENTITY_MISMATCH = "I002"
    I003_FACE_MISMATCH = "I003"
    I004_NO_FACE = "I004"
    I005_MULTIPLE_FACES = "I005"
    I006_IMAGE_UNREADABLE = "I006"
    I007_LIVENESS_FAILED = "I007"
    I008_ID_EXPIRED = "I008"
    I009_IMAGE_QUALITY = "I009"
    I010_ID_CARD_MISMATCH = "I010"
    I011_ID_CARD_UNREADABLE = "I011"
    I012_LIVENESS_ACTIONS = "I012"
    I013_SPOOF_SUSPECTED = "I013"
    I014_IMAGE_TOO_DARK = "I014"
    I015_IMAGE_BLURRED = "I015"
    I021_ID_CARD_CUT_OFF = "I021"
    I022_IMAGE_TOO_SMALL = "I022"
    I023_ID_CARD_GLARE = "I023"
    I024_ID_FIELD_DOUBTFUL = "I024"
    # carrier
    C001_CARRIER_AUTH_FAILED = "C001"
    C002_CARRIER_REPORT_UNAVAILABLE = "C002"
    # decision
    R001_AGE_OUT_OF_RANGE = "R001"
    R002_CURRENT_OVERDUE = "R002"
    R003_OVERDUE_HISTORY = "R003"
    R004_TOO_MANY_INQUIRIES = "R004"
    R005_MULTI_LENDING = "R005"
    R006_HIGH_DEBT_TO_INCOME = "R006"
    R007_LOW_SCORE = "R007"
    R008_GREY_ZONE = "R008"
    R009_THIN_FILE = "R009"
    R010_CARRIER_TENURE = "R010"
    R011_HIGH_CARD_UTILISATION = "R011"
    R012_INCOME_UNSTABLE = "R012"
    R013_CARRIER_BEHAVIOUR = "R013"
    # review
    V001_REVIEW_REJECTED = "V001"
    V002_REVIEW_TIMED_OUT = "V002"
    # payout
    S001_SIGNATURE_FAILED = "S001"
    D001_PRE_PAYOUT_RISK = "D001"
    D002_PAYOUT_FAILED = "D002"
    D003_CARD_REFUSED = "D003"
    # credit line monitoring (after the loan)
    M001_OVERDUE = "M001"
    M002_NEW_LOANS_ELSEWHERE = "M002"
    M003_DEVICE_ANOMALY = "M003"
    M004_LOCATION_ANOMALY = "M004"
    M005_REPAID_RESTORED = "M005"
    M006_GOOD_HISTORY = "M006"
    M007_OPS_FROZEN = "M007"
    M008_OPS_ADJUSTED = "M008"
    M009_LINE_EXPIRED = "M009"
    M010_UNUSED_EXPIRED = "M010"


class ReasonInfo(BaseModel):
    code: ReasonCode
    name: str
    internal: str
    applicant_message: str
    cool_down_days: int


def _r(code: ReasonCode, internal: str, message: str, days: int) -> ReasonInfo:
    return ReasonInfo(
        code=code,
        name=code.name.split("_", 1)[1],
        internal=internal,
        applicant_message=message,
        cool_down_days=days,
    )


_RETRY = "Please try again."
_CANNOT = "We cannot offer you a loan at this time."

REASONS: dict[ReasonCode, ReasonInfo] = {
    r.code: r
    for r in [
        _r(
            ReasonCode.P001_BLACKLISTED,
            "ID, phone or device on the platform's own blacklist",
            _CANNOT,
            365,
        ),
        _r(
            ReasonCode.P008_COURT_DISHONEST_DEBTOR,
            "on the court's list of dishonest judgement debtors (bureau report)",
            _CANNOT,
            365,
        ),
        _r(ReasonCode.P002_VELOCITY_DEVICE, "too many applications from this device", _CANNOT, 7),
        _r(ReasonCode.P003_VELOCITY_PHONE, "too many applications for this phone", _CANNOT, 7),
        _r(
            ReasonCode.P004_COOL_DOWN,
            "re-application within the cool-down after a rejection",
            "You applied recently; please apply again after the date shown.",
            0,
        ),
        _r(
            ReasonCode.P005_DEVICE_RISK,
            "emulator, rooted device, or many device changes for one person",
            _CANNOT,
            30,
        ),
        _r(
            ReasonCode.P006_MULTIPLE_ACCOUNTS,
            "several accounts or phone numbers for one ID, or several IDs on one device",
            _CANNOT,
            90,
        ),
        _r(
            ReasonCode.P007_LOCATION_RISK,
            "client IP in another province than the phone's registration: manual review",
            _CANNOT,
            0,
        ),
        _r(
            ReasonCode.I001_ID_NUMBER_INVALID,
            "ID number fails GB 11643 checks",
            "The ID number is not valid; please check it and apply again.",
            0,
        ),
        _r(
            ReasonCode.I002_IDENTITY_MISMATCH,
            "name and ID number not confirmed by the registry",
            "Your name and ID number could not be verified.",
            30,
        ),
        _r(
            ReasonCode.I003_FACE_MISMATCH,
            "selfie does not match the reference portrait",
            "Your photo does not match your ID; please apply again with a clear selfie.",
            1,
        ),
        _r(
            ReasonCode.I004_NO_FACE,
            "no face found in the selfie or video",
            "We could not see your face; please retake the photo in good light.",
            0,
        ),
        _r(
            ReasonCode.I005_MULTIPLE_FACES,
            "more than one face in the selfie or video",
            "Only you should be in the photo; please retake it.",
            0,
        ),
        _r(
            ReasonCode.I006_IMAGE_UNREADABLE,
            "an uploaded file could not be decoded",
            "A file could not be read; please upload it again.",
            0,
        ),
        _r(
            ReasonCode.I007_LIVENESS_FAILED,
            "liveness challenge not passed",
            "The liveness check did not pass; please follow the on-screen actions.",
            0,
        ),
        _r(ReasonCode.I008_ID_EXPIRED, "ID card expired", "Your ID card has expired.", 0),
        _r(
            ReasonCode.I009_IMAGE_QUALITY,
            "image too dark, blurred or face too small",
            "The photo is not clear enough; please retake it in good light.",
            0,
        ),
        _r(
            ReasonCode.I010_ID_CARD_MISMATCH,
            "name or ID number on the card differs from the one entered",
            "The name or ID number you entered does not match your ID card; please check them.",
            0,
        ),
        _r(
            ReasonCode.I011_ID_CARD_UNREADABLE,
            "ID card not found, fields unreadable or inconsistent with each other",
            "We could not read your ID card; please photograph each side flat, whole and in "
            "good light.",
            0,
        ),
        _r(
            ReasonCode.I012_LIVENESS_ACTIONS,
            "challenged actions not performed, or not in the order and windows asked",
            "Please perform the actions shown on screen, in that order, when each is asked.",
            0,
        ),
        _r(
            ReasonCode.I013_SPOOF_SUSPECTED,
            "passive anti-spoofing: the face looks printed or shown on a screen",
            "We could not confirm that you recorded the video yourself; please record it "
            "again, facing the camera.",
            1,
        ),
        _r(
            ReasonCode.I014_IMAGE_TOO_DARK,
            "image or face too dark",
            "The photo is too dark; please retake it in better light.",
            0,
        ),
        _r(
            ReasonCode.I015_IMAGE_BLURRED,
            "image or face blurred",
            "The photo is blurred; please hold the phone still and retake it.",
            0,
        ),
        _r(
            ReasonCode.I021_ID_CARD_CUT_OFF,
            "the ID card is cut by the photo's edge",
            "Part of your ID card is outside the photo; please retake it with all four corners "
            "inside the frame.",
            0,
        ),
        _r(
            ReasonCode.I022_IMAGE_TOO_SMALL,
            "photo or card too small / too low resolution to read",
            "The photo of your ID card is too small to read; please move closer so that the "
            "card fills most of the frame, and upload the original photo.",
            0,
        ),
        _r(
            ReasonCode.I023_ID_CARD_GLARE,
            "glare (a saturated reflection) over the printed text of the ID card",
            "A reflection covers part of your ID card; please tilt the card away from the "
            "light and retake it.",
            0,
        ),
        _r(
            ReasonCode.I024_ID_FIELD_DOUBTFUL,
            "an ID card field stayed doubtful after a second look",
            "Part of your ID card could not be read with certainty; please retake the photo "
            "flat, sharp and in good light.",
            0,
        ),
        _r(
            ReasonCode.C001_CARRIER_AUTH_FAILED,
            "carrier SMS code attempts exhausted",
            "The phone authorization failed; " + _RETRY.lower(),
            1,
        ),
        _r(
            ReasonCode.C002_CARRIER_REPORT_UNAVAILABLE,
            "carrier report not produced in time",
            "We could not get your phone data; " + _RETRY.lower(),
            1,
        ),
        _r(ReasonCode.R001_AGE_OUT_OF_RANGE, "age outside the product window", _CANNOT, 180),
        _r(ReasonCode.R002_CURRENT_OVERDUE, "current overdue at the bureau", _CANNOT, 90),
        _r(ReasonCode.R003_OVERDUE_HISTORY, "serious overdue in the last 24 months", _CANNOT, 90),
        _r(ReasonCode.R004_TOO_MANY_INQUIRIES, "too many credit inquiries recently", _CANNOT, 90),
        _r(ReasonCode.R005_MULTI_LENDING, "borrowing from too many lenders", _CANNOT, 90),
        _r(ReasonCode.R006_HIGH_DEBT_TO_INCOME, "debt-to-income above the limit", _CANNOT, 90),
        _r(ReasonCode.R007_LOW_SCORE, "score below the approval cut-off", _CANNOT, 90),
        _r(ReasonCode.R008_GREY_ZONE, "score in the grey zone: manual review", _CANNOT, 0),
        _r(ReasonCode.R009_THIN_FILE, "no credit history at the bureau", _CANNOT, 90),
        _r(
            ReasonCode.R010_CARRIER_TENURE,
            "phone number too new or not in the applicant's name",
            _CANNOT,
            90,
        ),
        _r(
            ReasonCode.R011_HIGH_CARD_UTILISATION,
            "credit cards used above the utilisation limit",
            _CANNOT,
            90,
        ),
        _r(
            ReasonCode.R012_INCOME_UNSTABLE,
            "too few months of unbroken payroll or social-insurance record",
            _CANNOT,
            90,
        ),
        _r(
            ReasonCode.R013_CARRIER_BEHAVIOUR,
            "call log: no emergency contact, very few contacts or mostly night calls",
            _CANNOT,
            90,
        ),
        _r(ReasonCode.V001_REVIEW_REJECTED, "rejected by a reviewer", _CANNOT, 90),
        _r(
            ReasonCode.V002_REVIEW_TIMED_OUT,
            "manual review not completed in time",
            "We could not complete your application in time; please apply again.",
            0,
        ),
        _r(
            ReasonCode.S001_SIGNATURE_FAILED,
            "e-sign OTP attempts exhausted",
            "The contract could not be signed; please apply again.",
            0,
        ),
        _r(ReasonCode.D001_PRE_PAYOUT_RISK, "risk signal found just before payout", _CANNOT, 90),
        _r(
            ReasonCode.D002_PAYOUT_FAILED,
            "payout could not be completed",
            "We could not pay out to your card; please contact support.",
            0,
        ),
        _r(
            ReasonCode.D003_CARD_REFUSED,
            "the bank refused the draw's payout to the line's card (invalid card or returned)",
            "Your bank refused the payment to your card, so nothing was drawn; please check the "
            "card with your bank or contact support.",
            0,
        ),
        _r(
            ReasonCode.M001_OVERDUE,
            "an instalment is overdue",
            "An instalment is overdue, so your credit line is paused until it is repaid.",
            0,
        ),
        _r(
            ReasonCode.M002_NEW_LOANS_ELSEWHERE,
            "bureau alert: new loans at other lenders",
            "Your credit limit was adjusted after a review of your recent borrowing.",
            0,
        ),
        _r(
            ReasonCode.M003_DEVICE_ANOMALY,
            "account used from an unrecognised or risky device",
            "For your security, your credit line is paused; please contact support.",
            0,
        ),
        _r(
            ReasonCode.M004_LOCATION_ANOMALY,
            "account used from an unusual location",
            "For your security, your credit limit was reduced for now.",
            0,
        ),
        _r(
            ReasonCode.M005_REPAID_RESTORED,
            "overdue repaid: the freeze for overdue is lifted",
            "Thank you for repaying; your credit line is available again.",
            0,
        ),
        _r(
            ReasonCode.M006_GOOD_HISTORY,
            "on-time repayments: the policy raised the limit",
            "Thanks to your on-time repayments, your credit limit was raised.",
            0,
        ),
        _r(
            ReasonCode.M007_OPS_FROZEN,
            "frozen by an operator",
            "Your credit line is paused; please contact support.",
            0,
        ),
        _r(
            ReasonCode.M008_OPS_ADJUSTED,
            "limit or status changed by an operator",
            "Your credit line was updated after a review.",
            0,
        ),
        _r(
            ReasonCode.M009_LINE_EXPIRED,
            "the line reached the end of its validity",
            "Your credit line has reached its end date; you may apply again.",
            0,
        ),
        _r(
            ReasonCode.M010_UNUSED_EXPIRED,
            "the approval was never drawn within its validity",
            "Your approval was not used in time and has expired; you may apply again.",
            0,
        ),
    ]
}


class ApplicantReason(BaseModel):
    """What the applicant may see about a rejection."""

    code: ReasonCode
    message: str


class Language(StrEnum):
    ZH = "zh"
    EN = "en"


# Applicants read Chinese first; the English texts above are the alternative.
_ZH: dict[str, str] = {
    "A file could not be read; please upload it again.": "文件无法读取，请重新上传。",
    "Only you should be in the photo; please retake it.": "照片中只能有您本人，请重新拍摄。",
    "Please perform the actions shown on screen, in that order, when each is asked.": (
        "请按屏幕提示的顺序完成每个动作。"
    ),
    "The ID number is not valid; please check it and apply again.": (
        "身份证号码无效，请核对后重新申请。"
    ),
    "The contract could not be signed; please apply again.": "合同未能签署，请重新申请。",
    "The liveness check did not pass; please follow the on-screen actions.": (
        "活体检测未通过，请按屏幕提示完成动作。"
    ),
    "The name or ID number you entered does not match your ID card; please check them.": (
        "您填写的姓名或身份证号码与身份证不一致，请核对。"
    ),
    "The phone authorization failed; please try again.": "手机号授权失败，请重试。",
    "The photo is blurred; please hold the phone still and retake it.": (
        "照片模糊，请拿稳手机后重新拍摄。"
    ),
    "The photo is not clear enough; please retake it in good light.": (
        "照片不够清晰，请在光线充足处重新拍摄。"
    ),
    "The photo is too dark; please retake it in better light.": (
        "照片太暗，请在光线更好的地方重新拍摄。"
    ),
    _CANNOT: "很抱歉，我们目前无法为您提供贷款。",
    "We could not complete your application in time; please apply again.": (
        "您的申请未能按时完成，请重新申请。"
    ),
    "We could not confirm that you recorded the video yourself; please record it again, "
    "facing the camera.": "无法确认视频由您本人录制，请正对镜头重新录制。",
    "We could not get your phone data; please try again.": "无法获取您的手机数据，请重试。",
    "We could not pay out to your card; please contact support.": (
        "无法向您的银行卡放款，请联系客服。"
    ),
    "Your bank refused the payment to your card, so nothing was drawn; please check the card "
    "with your bank or contact support.": (
        "您的银行拒绝了向该银行卡的付款，本次支用未放款；请向银行核实该卡或联系客服。"
    ),
    "We could not read your ID card; please photograph each side flat, whole and in good light.": (
        "无法识别您的身份证，请在光线充足处平整、完整地拍摄正反面。"
    ),
    "We could not see your face; please retake the photo in good light.": (
        "未检测到您的面部，请在光线充足处重新拍摄。"
    ),
    "You applied recently; please apply again after the date shown.": (
        "您近期已申请过，请在显示的日期之后再申请。"
    ),
    "Your ID card has expired.": "您的身份证已过期。",
    "Your name and ID number could not be verified.": "您的姓名和身份证号码未能通过核验。",
    "Your photo does not match your ID; please apply again with a clear selfie.": (
        "您的照片与身份证不符，请使用清晰的自拍照重新申请。"
    ),
    "Part of your ID card is outside the photo; please retake it with all four corners inside "
    "the frame.": "身份证有部分在照片之外，请让四个角都在取景框内后重新拍摄。",
    "The photo of your ID card is too small to read; please move closer so that the card fills "
    "most of the frame, and upload the original photo.": (
        "身份证照片太小，无法识别；请靠近拍摄，让身份证占满取景框的大部分，并上传原图。"
    ),
    "A reflection covers part of your ID card; please tilt the card away from the light and "
    "retake it.": "身份证上有反光遮挡，请将身份证偏离光源后重新拍摄。",
    "Part of your ID card could not be read with certainty; please retake the photo flat, sharp "
    "and in good light.": "身份证部分内容无法确认，请在光线充足处将身份证放平、拍清晰后重新拍摄。",
    "An instalment is overdue, so your credit line is paused until it is repaid.": (
        "您有一期还款已逾期，额度已暂停使用，还清后恢复。"
    ),
    "Your credit limit was adjusted after a review of your recent borrowing.": (
        "根据对您近期借款情况的评估，您的额度已调整。"
    ),
    "For your security, your credit line is paused; please contact support.": (
        "为保障您的账户安全，额度已暂停使用，请联系客服。"
    ),
    "For your security, your credit limit was reduced for now.": (
        "为保障您的账户安全，您的额度已暂时下调。"
    ),
    "Thank you for repaying; your credit line is available again.": (
        "感谢您的还款，您的额度已恢复使用。"
    ),
    "Thanks to your on-time repayments, your credit limit was raised.": (
        "感谢您按时还款，您的额度已提升。"
    ),
    "Your credit line is paused; please contact support.": "您的额度已暂停使用，请联系客服。",
    "Your credit line was updated after a review.": "经审核，您的额度已更新。",
    "Your credit line has reached its end date; you may apply again.": (
        "您的额度已到期，您可以重新申请。"
    ),
    "Your approval was not used in time and has expired; you may apply again.": (
        "您的审批额度未在有效期内使用，已失效；您可以重新申请。"
    ),
}


def applicant_message(code: ReasonCode, language: Language = Language.ZH) -> str:
    english = REASONS[code].applicant_message
    return english if language == Language.EN else _ZH.get(english, english)


def applicant_reasons(
    codes: list[ReasonCode], language: Language = Language.EN
) -> list[ApplicantReason]:
    return [ApplicantReason(code=c, message=applicant_message(c, language)) for c in codes]


def reapply_after(codes: list[ReasonCode], decided_on: date) -> date:
    days = max((REASONS[c].cool_down_days for c in codes), default=0)
    return decided_on + timedelta(days=days)


CREDIT_REASONS = frozenset(
    code for code in ReasonCode if code.value.startswith(("R", "D001", "V001"))
)
"""Reasons of a credit judgement (the decision, a reviewer, the pre-payout check): a rejection
for one of them opens the policy's re-application window. Document retakes and vendor failures
do not."""

RETAKE_REASONS = frozenset(
    {
        ReasonCode.I004_NO_FACE,
        ReasonCode.I005_MULTIPLE_FACES,
        ReasonCode.I006_IMAGE_UNREADABLE,
        ReasonCode.I007_LIVENESS_FAILED,
        ReasonCode.I009_IMAGE_QUALITY,
        ReasonCode.I010_ID_CARD_MISMATCH,
        ReasonCode.I011_ID_CARD_UNREADABLE,
        ReasonCode.I012_LIVENESS_ACTIONS,
        ReasonCode.I013_SPOOF_SUSPECTED,
        ReasonCode.I014_IMAGE_TOO_DARK,
        ReasonCode.I015_IMAGE_BLURRED,
        ReasonCode.I021_ID_CARD_CUT_OFF,
        ReasonCode.I022_IMAGE_TOO_SMALL,
        ReasonCode.I023_ID_CARD_GLARE,
        ReasonCode.I024_ID_FIELD_DOUBTFUL,
    }
)
"""Identity failures the applicant can fix by uploading again, within the attempt limit."""
