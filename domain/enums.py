"""Statuses, outcomes and kinds: every closed vocabulary of the domain as a StrEnum."""

from enum import StrEnum


class ApplicationStatus(StrEnum):
    SUBMITTED = "SUBMITTED"
    AWAITING_DOCUMENTS = "AWAITING_DOCUMENTS"
    VERIFYING_IDENTITY = "VERIFYING_IDENTITY"
    AWAITING_CARRIER_AUTH = "AWAITING_CARRIER_AUTH"
    DECISIONING = "DECISIONING"
    MANUAL_REVIEW = "MANUAL_REVIEW"
    OFFERED = "OFFERED"
    AWAITING_SIGNATURE = "AWAITING_SIGNATURE"
    PRE_PAYOUT_CHECK = "PRE_PAYOUT_CHECK"
    DISBURSING = "DISBURSING"
    DISBURSED = "DISBURSED"
    REJECTED = "REJECTED"
    EXPIRED = "EXPIRED"
    CANCELLED = "CANCELLED"
    FAILED = "FAILED"

    @property
    def is_terminal(self) -> bool:
        return self in TERMINAL_STATUSES


TERMINAL_STATUSES = frozenset(
    {
        ApplicationStatus.DISBURSED,
        ApplicationStatus.REJECTED,
        ApplicationStatus.EXPIRED,
        ApplicationStatus.CANCELLED,
        ApplicationStatus.FAILED,
    }
)


class DecisionOutcome(StrEnum):
    APPROVE = "APPROVE"
    REJECT = "REJECT"
    REVIEW = "REVIEW"


class ReviewOutcome(StrEnum):
    APPROVE = "APPROVE"
    REJECT = "REJECT"
    REQUEST_MORE_INFO = "REQUEST_MORE_INFO"


class DocumentKind(StrEnum):
    ID_FRONT = "id_front"
    ID_BACK = "id_back"
    SELFIE = "selfie"
    LIVENESS_VIDEO = "liveness_video"
    REFERENCE_PORTRAIT = "reference_portrait"
    CONTRACT = "contract"


APPLICANT_DOCUMENTS = (
    DocumentKind.ID_FRONT,
    DocumentKind.ID_BACK,
    DocumentKind.SELFIE,
    DocumentKind.LIVENESS_VIDEO,
)


class NextAction(StrEnum):
    """What the applicant (or ops) must do next; shown by the status query and GET."""

    UPLOAD_DOCUMENTS = "UPLOAD_DOCUMENTS"
    WAIT = "WAIT"
    AUTHORIZE_CARRIER = "AUTHORIZE_CARRIER"
    AWAIT_REVIEW = "AWAIT_REVIEW"
    ACCEPT_OFFER = "ACCEPT_OFFER"
    SIGN_CONTRACT = "SIGN_CONTRACT"
    PROVIDE_NEW_BANK_CARD = "PROVIDE_NEW_BANK_CARD"
    NONE = "NONE"


class LivenessAction(StrEnum):
    BLINK = "BLINK"
    OPEN_MOUTH = "OPEN_MOUTH"
    NOD = "NOD"
    SHAKE_HEAD = "SHAKE_HEAD"


class PayoutStatus(StrEnum):
    """State of one payout order at the payment gateway."""

    PENDING = "PENDING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    RETURNED = "RETURNED"


class PayoutFailure(StrEnum):
    """Why a gateway order failed; decides retry, channel switch or a new card."""

    CHANNEL_ERROR = "CHANNEL_ERROR"
    INVALID_CARD = "INVALID_CARD"
    REJECTED = "REJECTED"


class PayoutResultKind(StrEnum):
    DISBURSED = "DISBURSED"
    CARD_TIMEOUT = "CARD_TIMEOUT"
    CARD_REFUSED = "CARD_REFUSED"
    FAILED = "FAILED"


class BlacklistKind(StrEnum):
    """What a platform blacklist entry lists."""

    ID_NUMBER = "id_number"
    PHONE = "phone"
    DEVICE = "device"


class OpsRole(StrEnum):
    """What an ops person may do. admin includes senior, senior includes reviewer; an engineer
    reads (evidence, decoded payloads) and decides nothing."""

    REVIEWER = "reviewer"
    SENIOR = "senior"
    ADMIN = "admin"
    ENGINEER = "engineer"

    def grants(self, needed: "OpsRole") -> bool:
        return needed in _GRANTS[self]


_GRANTS: dict[OpsRole, frozenset[OpsRole]] = {
    OpsRole.REVIEWER: frozenset({OpsRole.REVIEWER}),
    OpsRole.SENIOR: frozenset({OpsRole.REVIEWER, OpsRole.SENIOR}),
    OpsRole.ADMIN: frozenset(OpsRole),
    OpsRole.ENGINEER: frozenset({OpsRole.ENGINEER}),
}
