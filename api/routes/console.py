"""The review console: server-rendered pages for ops people, signed in with the same session
as the ops API (the HttpOnly `loanflow_ops` cookie). The queue oldest SLA deadline first, a case
page with the evidence, the outcome forms, and the funnel. Outcomes go through the ops API's own
review function, so the reviewer recorded is the signed-in person."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates

from api.deps import OpsPrincipal, ServicesDep, ops_principal
from api.errors import ApiError, NotFound
from api.routes import ops, ops_tools, sessions
from api.schemas import OpsSignIn, ReviewRequest
from api.security import OPS_COOKIE
from domain.enums import OpsRole, ReviewOutcome
from domain.reasons import CREDIT_REASONS, REASONS, ReasonCode
from store import identity, queries, reports
from store.blobs import BlobNotFound, BlobStore
from store.tables import Document

logger = logging.getLogger(__name__)

TEMPLATES = Jinja2Templates(directory=Path(__file__).resolve().parent.parent / "templates")
IMAGE_KINDS = {"id_front", "id_back", "selfie"}
REJECT_REASONS = sorted(
    (c for c in ReasonCode if c in CREDIT_REASONS or c == ReasonCode.V001_REVIEW_REJECTED),
    key=lambda c: c.value,
)

router = APIRouter(prefix="/console", include_in_schema=False)


def _yuan(fen: int | None) -> str:
    return "-" if fen is None else f"¥{fen / 100:,.2f}"


TEMPLATES.env.filters["yuan"] = _yuan


async def _who(request: Request, services: ServicesDep) -> OpsPrincipal | None:
    try:
        return await ops_principal(services, None, request.cookies.get(OPS_COOKIE))
    except ApiError:
        return None


def _to_login(request: Request) -> RedirectResponse:
    return RedirectResponse(f"/console/login?next={request.url.path}", status_code=303)


def _page(request: Request, name: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    return TEMPLATES.TemplateResponse(request, name, context, status_code=status_code)


@router.get("")
async def home() -> RedirectResponse:
    return RedirectResponse("/console/reviews", status_code=303)


@router.get("/login")
async def login_form(request: Request, next: str = "/console/reviews") -> HTMLResponse:
    return _page(request, "console/login.html", next=_safe_next(next), error=None, who=None)


@router.post("/login")
async def login(
    request: Request,
    services: ServicesDep,
    username: Annotated[str, Form()],
    password: Annotated[str, Form()],
    next: Annotated[str, Form()] = "/console/reviews",
) -> Response:
    target = RedirectResponse(_safe_next(next), status_code=303)
    try:
        body = OpsSignIn(username=username, password=password)
        await sessions.sign_in(body, target, services, services.limiter)
    except (ApiError, ValueError) as exc:
        locked = isinstance(exc, ApiError) and exc.status_code == 429
        error = "Too many attempts; try again later." if locked else "Wrong username or password."
        code = 429 if locked else 401
        return _page(request, "console/login.html", code, next=next, error=error, who=None)
    return target


@router.post("/logout")
async def logout(request: Request, services: ServicesDep) -> Response:
    who = await _who(request, services)
    if who is not None:
        await queries.in_thread(services.engine, identity.revoke_token, who.jti, who.expires_at)
    response = RedirectResponse("/console/login", status_code=303)
    response.delete_cookie(OPS_COOKIE, httponly=True, samesite="strict")
    return response


@router.get("/reviews")
async def queue(request: Request, services: ServicesDep) -> Response:
    who = await _who(request, services)
    if who is None:
        return _to_login(request)
    rows = await queries.in_thread(services.engine, reports.review_queue, None, 200)
    return _page(request, "console/queue.html", who=who, rows=rows)


@router.get("/cases/{application_id}")
async def case(
    request: Request, application_id: str, services: ServicesDep, result: str | None = None
) -> Response:
    who = await _who(request, services)
    if who is None:
        return _to_login(request)
    return await _case_page(request, services, who, application_id, notice=result)


async def _case_page(
    request: Request,
    services: ServicesDep,
    who: OpsPrincipal,
    application_id: str,
    notice: str | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    bundle = await queries.in_thread(services.engine, queries.evidence_bundle, application_id)
    live = await services.workflows.status_or_none(application_id)
    if bundle is None and live is None:
        raise NotFound("no such application")
    decisions = bundle.decisions if bundle else []
    decided = [d for d in decisions if d.score is not None] or decisions
    decision = decided[-1] if decided else None
    snapshot = decision.input_snapshot if decision else {}
    audit = bundle.audit if bundle else []
    verified = next((a.data for a in reversed(audit) if a.event == "IDENTITY_VERIFIED"), {})
    actions = [
        {
            "action": verified[f"liveness_{n}_action"],
            "window": verified.get(f"liveness_{n}_window"),
            "seen": verified.get(f"liveness_{n}_seen"),
        }
        for n in range(1, 10)
        if f"liveness_{n}_action" in verified
    ]
    card = [
        (k[5:].replace("_", " "), "-" if v is None else str(v))
        for k, v in verified.items()
        if k.startswith("card_") and k != "card_read"
    ]
    documents = {d.kind for d in bundle.documents} if bundle else set()
    can_decide = who.role.grants(OpsRole.REVIEWER)
    return _page(
        request,
        "console/case.html",
        status_code,
        who=who,
        app=bundle.application if bundle else None,
        live=live,
        decision=decision,
        bureau=_bureau_facts(snapshot.get("bureau")),
        carrier=_carrier_facts(snapshot.get("carrier")),
        identity=_identity_facts(verified),
        card=card,
        actions=actions,
        documents=documents,
        image_kinds=sorted(IMAGE_KINDS & documents),
        has_video="liveness_video" in documents,
        audit=audit,
        reasons=REASONS,
        reject_reasons=REJECT_REASONS,
        can_decide=can_decide,
        in_review=live is not None and live.status == "MANUAL_REVIEW",
        notice=notice,
        error=error,
    )


def _num(value: Any, pattern: str = "{:.3f}") -> str:
    return "-" if value is None else pattern.format(value)


def _identity_facts(verified: dict[str, Any]) -> list[tuple[str, str]]:
    if not verified:
        return [("Identity", "not verified yet")]
    passed = verified.get("liveness_passed")
    spoof = verified.get("liveness_spoof_score")
    liveness = "-" if passed is None else ("passed" if passed else "failed")
    if spoof is not None:
        liveness += f" (spoof score {spoof:.2f})"
    return [
        ("Face distance (card)", _num(verified.get("face_distance_card"))),
        ("Face distance (reference)", _num(verified.get("face_distance_reference"))),
        ("Face distance (video)", _num(verified.get("face_distance_video"))),
        ("Liveness", liveness),
    ]


def _bureau_facts(bureau: dict[str, Any] | None) -> list[tuple[str, str]]:
    if not bureau:
        return [("Report", "none")]
    b = bureau
    return [
        ("Score", "thin file" if b.get("score") is None else str(b["score"])),
        ("Current overdue", _yuan(b.get("current_overdue_amount"))),
        ("Overdue (24 m)", f"{b.get('overdue_count_24m')} · max {b.get('max_overdue_days_24m')} d"),
        (
            "Inquiries 1/3/6 m",
            f"{b.get('inquiries_1m')}/{b.get('inquiries_3m')}/{b.get('inquiries_6m')}",
        ),
        ("Lenders (6 m)", str(b.get("lenders_6m"))),
        ("Monthly income", _yuan(b.get("monthly_income"))),
        ("Monthly debt", _yuan(b.get("monthly_debt_payment"))),
        ("Card utilisation", _num(b.get("card_utilisation"), "{:.0%}")),
        ("Court list", "yes" if b.get("on_court_blacklist") else "no"),
    ]


def _carrier_facts(carrier: dict[str, Any] | None) -> list[tuple[str, str]]:
    if not carrier:
        return [("Report", "none")]
    c = carrier
    return [
        ("Months on network", str(c.get("months_on_network"))),
        ("Real-name match", "yes" if c.get("real_name_match") else "no"),
        ("Contacts in call log", str(c.get("contacts_in_call_log"))),
        ("Night calls", _num(c.get("night_call_ratio"), "{:.0%}")),
        ("Monthly bill", _yuan(c.get("monthly_bill_avg"))),
        ("Device changes (6 m)", _num(c.get("device_changes_6m"), "{}")),
    ]


@router.post("/cases/{application_id}/review")
async def review(
    request: Request,
    application_id: str,
    services: ServicesDep,
    outcome: Annotated[ReviewOutcome, Form()],
    approved_limit_yuan: Annotated[str, Form()] = "",
    reason_code: Annotated[str, Form()] = "",
    note: Annotated[str, Form()] = "",
) -> Response:
    who = await _who(request, services)
    if who is None:
        return _to_login(request)
    try:
        limit = round(float(approved_limit_yuan) * 100) if approved_limit_yuan.strip() else None
        body = ReviewRequest(
            outcome=outcome,
            approved_limit=limit,
            reason_code=ReasonCode(reason_code) if reason_code else None,
            note=note,
        )
        if not who.role.grants(OpsRole.REVIEWER):
            raise PermissionError(f"{who.role.value} may not record review outcomes")
        result = await ops.review_as(application_id, body, who, services.engine, services.workflows)
    except (ApiError, ValueError, PermissionError) as exc:
        message = _explain(exc)
        code = exc.status_code if isinstance(exc, ApiError) else 422
        return await _case_page(request, services, who, application_id, error=message,
                                status_code=code)  # fmt: skip
    notice = f"{outcome.value} recorded by {who.username}; status now {result.status.value}"
    return RedirectResponse(
        request.url_for("case", application_id=application_id).include_query_params(result=notice),
        status_code=303,
    )


def _explain(exc: Exception) -> str:
    if isinstance(exc, ApiError):
        detail = exc.detail if isinstance(exc.detail, str) else exc.code
        status = exc.extra.get("status")
        return f"Refused: {detail}" + (f" (status {status})" if status else "")
    return f"Refused: {exc}"


@router.get("/cases/{application_id}/documents/{kind}")
async def document(
    request: Request, application_id: str, kind: str, services: ServicesDep
) -> Response:
    who = await _who(request, services)
    if who is None or kind not in IMAGE_KINDS:
        return Response(status_code=404 if who else 401)
    data = await _document_bytes(services, application_id, kind)
    if data is None:
        return Response(status_code=404)
    return Response(data, media_type=_image_type(data), headers={"Cache-Control": "no-store"})


@router.get("/cases/{application_id}/frame.jpg")
async def best_frame(request: Request, application_id: str, services: ServicesDep) -> Response:
    """The sharpest sampled frame of the liveness video (a still for the reviewer's eye)."""
    who = await _who(request, services)
    if who is None:
        return Response(status_code=401)
    ref = await _document_ref(services, application_id, "liveness_video")
    frame = await asyncio.to_thread(_sharpest_frame, services.blobs, ref.blob_key) if ref else None
    if frame is None:
        return Response(status_code=404)
    return Response(frame, media_type="image/jpeg", headers={"Cache-Control": "no-store"})


async def _document_ref(services: ServicesDep, application_id: str, kind: str) -> Document | None:
    bundle = await queries.in_thread(services.engine, queries.evidence_bundle, application_id)
    return next((d for d in bundle.documents if d.kind == kind), None) if bundle else None


async def _document_bytes(services: ServicesDep, application_id: str, kind: str) -> bytes | None:
    ref = await _document_ref(services, application_id, kind)
    if ref is None:
        return None
    try:
        return await asyncio.to_thread(services.blobs.get, ref.blob_key)
    except BlobNotFound:
        return None


def _image_type(data: bytes) -> str:
    return "image/png" if data.startswith(b"\x89PNG") else "image/jpeg"


def _sharpest_frame(blobs: BlobStore, key: str, samples: int = 24) -> bytes | None:
    import tempfile

    import cv2

    # OpenCV reads a file: the video is decrypted into one chunk by chunk, never held whole
    with tempfile.NamedTemporaryFile(suffix=".mp4") as tmp:
        try:
            for chunk in blobs.open_stream(key):
                tmp.write(chunk)
        except BlobNotFound:
            return None
        tmp.flush()
        capture = cv2.VideoCapture(tmp.name)
        try:
            total = int(capture.get(cv2.CAP_PROP_FRAME_COUNT)) or samples
            best, best_score = None, -1.0
            for index in range(0, total, max(total // samples, 1)):
                capture.set(cv2.CAP_PROP_POS_FRAMES, index)
                ok, frame = capture.read()
                if not ok:
                    continue
                grey = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
                score = float(cv2.Laplacian(grey, cv2.CV_64F).var())
                if score > best_score:
                    best, best_score = frame, score
        finally:
            capture.release()
    if best is None:
        return None
    ok, encoded = cv2.imencode(".jpg", best)
    return encoded.tobytes() if ok else None


@router.get("/funnel")
async def funnel(request: Request, services: ServicesDep, days: ops_tools.Days = None) -> Response:
    who = await _who(request, services)
    if who is None:
        return _to_login(request)
    rows = await ops_tools.funnel_rows(services.engine, days)
    return _page(request, "console/funnel.html", who=who, rows=rows, days=days)


def _safe_next(target: str) -> str:
    # Only a path of this console: never an open redirect.
    return target if target.startswith("/console/") and "//" not in target else "/console/reviews"
