"""One-off for merging branches made before issue 8 split `domain/models.py` by stage: rewrites
every `from domain.models import ...` under the given folder into imports from the stage modules.

    python scripts/rewrite_domain_model_imports.py .     # then: ruff check --fix . && ruff format .

Delete once no branch imports `domain.models`.
"""

import ast
import re
import sys
from pathlib import Path

ROOT = Path(sys.argv[1])
MODULES = {
    "application": (
        "The start of an application and the applicant's withdrawal.",
        ["Device", "Consents", "StartApplicationInput", "WithdrawInput"],
    ),
    "identity": (
        "Stages 2 and 3: documents, the person they name, and the identity checks.",
        [
            "ActionWindow",
            "LivenessChallenge",
            "DocumentRef",
            "Applicant",
            "SubmitDocumentsInput",
            "IdCardInput",
            "IdCardFields",
            "IdCardResult",
            "LivenessInput",
            "LivenessResult",
            "IdentityCheckInput",
            "IdentityCheckResult",
            "FaceMatchInput",
            "FaceMatchResult",
            "IdentityOutcome",
        ],
    ),
    "carrier": (
        "Stage 4: carrier data authorized by SMS code, and the carrier's report.",
        [
            "CarrierSmsInput",
            "CarrierSmsResult",
            "CarrierCodeInput",
            "CarrierAuthorizeInput",
            "CarrierAuthorizeResult",
            "CarrierReportInput",
            "CarrierReport",
        ],
    ),
    "decision": (
        "Stages 1, 5, 6 and 9: pre-screen, bureau and decision, review, pre-payout check.",
        [
            "BureauInput",
            "BureauReport",
            "DecisionInput",
            "Offer",
            "Decision",
            "PrescreenInput",
            "PrescreenResult",
            "IdBlacklistInput",
            "PrePayoutInput",
            "PrePayoutResult",
            "ReviewInput",
            "ReviewResult",
        ],
    ),
    "offer": (
        "Stage 7: the offer accepted with an amount and term, and the bank card bound.",
        [
            "BankCard",
            "AcceptOfferInput",
            "BankCardCheckInput",
            "BankCardCheckResult",
            "AcceptOfferResult",
        ],
    ),
    "contract": (
        "Stage 8: the loan contract generated, signed through the e-sign vendor and sealed.",
        [
            "ContractInput",
            "ContractDocument",
            "EsignEnvelopeInput",
            "EsignEnvelope",
            "SignContractInput",
            "EsignSignInput",
            "EsignSignResult",
            "SealInput",
            "SignContractResult",
        ],
    ),
    "payout": (
        "Stage 10: the payout child workflow, the payment gateway's orders and callbacks.",
        [
            "PayoutInput",
            "RouteInput",
            "RouteResult",
            "SubmitPayoutInput",
            "QueryPayoutInput",
            "GatewayOrder",
            "PaymentNotification",
            "NewBankCardInput",
            "NewBankCardResult",
            "PayoutOutcome",
            "DisbursementRecord",
            "PayoutNeedsCard",
        ],
    ),
    "status": (
        "What the store and the `status` query show of an application.",
        ["ProjectionInput", "ApplicationView"],
    ),
}
WHERE = {name: mod for mod, (_, names) in MODULES.items() for name in names}

# rewrite imports
for path in ROOT.rglob("*.py"):
    if ".venv" in path.parts or ".git" in path.parts:
        continue
    text = path.read_text()
    if "domain.models" not in text:
        continue
    t = ast.parse(text)
    ls = text.splitlines(True)
    edits = []
    for node in ast.walk(t):
        if isinstance(node, ast.ImportFrom) and node.module == "domain.models":
            groups = {}
            for a in node.names:
                groups.setdefault(WHERE[a.name], []).append(
                    a.name if a.asname is None else f"{a.name} as {a.asname}"
                )
            indent = re.match(r"\s*", ls[node.lineno - 1]).group(0)
            new = "".join(
                f"{indent}from domain.{m} import {', '.join(ns)}\n"
                for m, ns in sorted(groups.items())
            )
            edits.append((node.lineno - 1, node.end_lineno, new))
    for s, e, new in sorted(edits, reverse=True):
        ls[s:e] = [new]
    out = "".join(ls)
    if "domain.models" in out:
        print("left:", path, [line for line in out.splitlines() if "domain.models" in line])
    path.write_text(out)
    print("rewrote", path.relative_to(ROOT))
