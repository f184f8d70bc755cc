"""The one place that derives workflow ids, idempotency keys and task queue names, and names
every activity, message and search attribute."""

from temporalio.common import SearchAttributeKey

APPLICATION_TASK_QUEUE = "loan-applications"
VISION_TASK_QUEUE = "vision"


def application_workflow_id(application_id: str) -> str:
    return f"loan-application-{application_id}"


def payout_workflow_id(application_id: str) -> str:
    return f"payout-{application_id}"


def payout_idempotency_key(application_id: str) -> str:
    return f"payout-{application_id}"


def credit_line_workflow_id(line_id: str) -> str:
    return f"credit-line-{line_id}"


def draw_workflow_id(line_id: str, number: int) -> str:
    """Also the draw's id: its payout is `payout-{draw workflow id}`, keyed the same."""
    return f"draw-{line_id}-{number}"


def debit_idempotency_key(line_id: str, instalment_key: str, attempt: int) -> str:
    """One scheduled debit per instalment and attempt: a new attempt only after one failed."""
    return f"debit-{line_id}-{instalment_key}-{attempt}"


def repayment_idempotency_key(line_id: str, reference: str) -> str:
    return f"repay-{line_id}-{reference}"


PRECREDIT_SCHEDULE_ID = "precredit-batch"


def application_id_from_workflow_id(workflow_id: str) -> str:
    return workflow_id.removeprefix("loan-application-")


class ActivityName:
    """Registered activity names: workflows call activities by these, workers register them."""

    REGISTER_APPLICATION = "records.register_application"
    PROJECT = "records.project"
    PRESCREEN = "decisioning.prescreen"
    CHECK_ID_BLACKLIST = "decisioning.check_id_blacklist"
    DECIDE = "decisioning.decide"
    PRE_PAYOUT_CHECK = "decisioning.pre_payout_check"
    INSPECT_ID_CARD = "vision.inspect_id_card"
    CHECK_LIVENESS = "vision.check_liveness"
    MATCH_FACES = "vision.match_faces"
    ENCODE_FACES = "vision.encode_faces"
    VERIFY_IDENTITY = "identity.verify"
    CARRIER_SEND_SMS = "carrier.send_sms"
    CARRIER_AUTHORIZE = "carrier.authorize"
    CARRIER_FETCH_REPORT = "carrier.fetch_report"
    BUREAU_FETCH_REPORT = "bureau.fetch_report"
    BANKCARD_VERIFY = "bankcard.verify"
    CONTRACT_GENERATE = "contract.generate"
    CONTRACT_SEAL = "contract.seal"
    ESIGN_CREATE_ENVELOPE = "esign.create_envelope"
    ESIGN_SIGN = "esign.sign"
    PAYOUT_ROUTE = "payout.route"
    PAYOUT_SUBMIT = "payout.submit"
    PAYOUT_QUERY = "payout.query"
    PAYOUT_RECORD = "payout.record"
    LINE_RECORD = "lines.record"
    LINE_EVALUATE = "lines.evaluate"
    DEBIT_SUBMIT = "repayments.debit"
    DEBIT_AWAIT = "repayments.await_debit"
    PRECREDIT_COUNT = "precredit.count"
    PRECREDIT_SCORE_CHUNK = "precredit.score_chunk"


class ErrorType:
    """ApplicationError types that cross the workflow boundary."""

    WRONG_STAGE = "WRONG_STAGE"
    INVALID_INPUT = "INVALID_INPUT"
    REPORT_PENDING = "REPORT_PENDING"
    BAD_DOCUMENT = "BAD_DOCUMENT"
    BLOB_UNREADABLE = "BLOB_UNREADABLE"
    VENDOR_REJECTED = "VENDOR_REJECTED"
    POLICY_ERROR = "POLICY_ERROR"
    NOT_FOUND = "NOT_FOUND"
    DATA_REFUSED = "DATA_REFUSED"
    DEBIT_PENDING = "DEBIT_PENDING"


class WorkflowName:
    APPLICATION = "LoanApplicationWorkflow"
    PAYOUT = "PayoutWorkflow"
    CREDIT_LINE = "CreditLineWorkflow"
    DRAW = "DrawWorkflow"
    PRECREDIT_BATCH = "PreCreditBatchWorkflow"


class UpdateName:
    SUBMIT_DOCUMENTS = "submit_documents"
    REQUEST_CARRIER_SMS = "request_carrier_sms"
    AUTHORIZE_CARRIER = "authorize_carrier"
    ACCEPT_OFFER = "accept_offer"
    SIGN_CONTRACT = "sign_contract"
    WITHDRAW = "withdraw"
    RECORD_REVIEW = "record_review"
    PROVIDE_NEW_BANK_CARD = "provide_new_bank_card"
    DRAW = "draw"
    REPAY = "repay"
    SETTLE = "settle"
    OPS_LINE_ACTION = "ops_line_action"


class QueryName:
    STATUS = "status"
    PAYOFF = "payoff"


class SignalName:
    PAYMENT_NOTIFICATION = "payment_notification"
    NEW_BANK_CARD = "new_bank_card"
    PAYOUT_NEEDS_CARD = "payout_needs_card"
    MONITORING_EVENT = "monitoring_event"


class SearchAttributeName:
    """Custom search attributes; registered at dev-server start and in the compose deployment."""

    APPLICATION_STATUS = "ApplicationStatus"
    DECISION_OUTCOME = "DecisionOutcome"
    RISK_GRADE = "RiskGrade"
    PRODUCT_CODE = "ProductCode"
    REQUESTED_AMOUNT = "RequestedAmount"
    REVIEW_QUEUE = "ReviewQueue"
    LINE_STATUS = "LineStatus"
    OVERDUE_DAYS = "OverdueDays"

    KEYWORDS = (
        APPLICATION_STATUS,
        DECISION_OUTCOME,
        RISK_GRADE,
        PRODUCT_CODE,
        REVIEW_QUEUE,
        LINE_STATUS,
    )
    DOUBLES = (REQUESTED_AMOUNT,)
    INTS = (OVERDUE_DAYS,)


class SearchAttributeKeys:
    """The typed keys of the search attributes: the API sets the first ones at start, the
    workflow upserts them at every stage change."""

    STATUS = SearchAttributeKey.for_keyword(SearchAttributeName.APPLICATION_STATUS)
    OUTCOME = SearchAttributeKey.for_keyword(SearchAttributeName.DECISION_OUTCOME)
    GRADE = SearchAttributeKey.for_keyword(SearchAttributeName.RISK_GRADE)
    PRODUCT = SearchAttributeKey.for_keyword(SearchAttributeName.PRODUCT_CODE)
    AMOUNT = SearchAttributeKey.for_float(SearchAttributeName.REQUESTED_AMOUNT)
    REVIEW_QUEUE = SearchAttributeKey.for_keyword(SearchAttributeName.REVIEW_QUEUE)

    ALL = (STATUS, OUTCOME, GRADE, PRODUCT, AMOUNT, REVIEW_QUEUE)
