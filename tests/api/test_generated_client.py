"""The OpenAPI is a contract a frontend team can generate a client from: a Python client made by
`openapi-python-client` from `openapi.json` compiles and drives one application through the API
(the stand-in workflow of test_api behind it); every 4xx is declared in the one error model; a
term is `term_months` in every model."""

from __future__ import annotations

import compileall
import importlib
import json
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest

from api.i18n import preferred_language
from api.schemas import ApplicantView
from domain.enums import ApplicationStatus, NextAction
from domain.reasons import ApplicantReason, Language, ReasonCode
from domain.status import ApplicationView
from tests.api.test_api import MP4, png

GENERATOR = Path(sys.executable).parent / "openapi-python-client"
CONFIG = """content_type_overrides:
  application/pdf: application/octet-stream
  image/png: application/octet-stream
post_hooks: []
"""


@pytest.fixture(scope="module")
async def spec(api) -> dict[str, Any]:
    response = await api.get("/openapi.json")
    assert response.status_code == 200
    return response.json()


@pytest.fixture(scope="module")
def client_package(spec: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> ModuleType:
    work = tmp_path_factory.mktemp("client")
    (work / "openapi.json").write_text(json.dumps(spec))
    (work / "config.yaml").write_text(CONFIG)
    result = subprocess.run(
        [str(GENERATOR), "generate", "--path", "openapi.json", "--meta", "none"]
        + ["--output-path", "loanflow_client", "--config", "config.yaml"],
        cwd=work,
        capture_output=True,
        text=True,
        timeout=120,
        env=os.environ | {"PATH": f"{GENERATOR.parent}:{os.environ.get('PATH', '')}"},
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Unsupported" not in result.stdout + result.stderr, result.stdout + result.stderr
    assert compileall.compile_dir(work / "loanflow_client", quiet=1)
    sys.path.insert(0, str(work))
    try:
        yield importlib.import_module("loanflow_client")
    finally:
        sys.path.remove(str(work))
        for name in [n for n in sys.modules if n.startswith("loanflow_client")]:
            del sys.modules[name]


def _op(name: str) -> ModuleType:
    return importlib.import_module(f"loanflow_client.api.{name}")


def _model_of(schema: dict[str, Any]) -> str | None:
    """The component a body's schema names: directly, as a list's items, or as one of a union."""
    if "$ref" in schema:
        return str(schema["$ref"]).rsplit("/", 1)[1]
    if schema.get("type") == "array":
        return _model_of(schema.get("items", {}))
    for option in schema.get("anyOf", []) + schema.get("oneOf", []):
        if (found := _model_of(option)) is not None:
            return found
    return None


def _json_bodies(operation: dict[str, Any]) -> list[dict[str, Any]]:
    """The JSON request body and the JSON answers of success."""
    bodies = [operation.get("requestBody", {}).get("content", {}).get("application/json")]
    for code, answer in operation["responses"].items():
        if code.startswith("2"):
            bodies.append(answer.get("content", {}).get("application/json"))
    return [body for body in bodies if body]


def test_every_operation_has_a_stable_id_and_declares_its_errors(spec: dict[str, Any]) -> None:
    ids = []
    schemas = spec["components"]["schemas"]
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            ids.append(operation["operationId"])
            for body in _json_bodies(operation):
                model = _model_of(body["schema"])
                examples = schemas[model].get("examples") if model else body.get("examples")
                assert examples, (method, path, model)
            errors = {c: r for c, r in operation["responses"].items() if c[0] in "45"}
            assert "422" in errors, (method, path)
            for code, answer in errors.items():
                schema = answer["content"]["application/json"]["schema"]
                assert schema == {"$ref": "#/components/schemas/ErrorBody"}, (method, path, code)
    assert len(ids) == len(set(ids))
    assert {"startApplication", "getApplication", "acceptOffer", "recordReview"} <= set(ids)
    assert "HTTPValidationError" not in spec["components"]["schemas"]
    start = spec["components"]["schemas"]["StartApplicationRequest"]
    assert "term_months" in start["properties"] and start["examples"]


def test_ops_and_line_routes_declare_their_unavailable_answers(spec: dict[str, Any]) -> None:
    """Every ops route reads the store, every line route asks the line's workflow: 503 when
    those are down, and 504 when a workflow does not answer in time."""
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            declared = set(operation["responses"])
            if path.startswith(("/v1/ops/", "/v1/lines/")) and path != "/v1/ops/sessions":
                assert "503" in declared, (method, path)
            if path.startswith("/v1/lines/"):
                assert "504" in declared, (method, path)
    funnel = spec["paths"]["/v1/ops/funnel"]["get"]["responses"]["200"]
    rows = funnel["content"]["application/json"]["schema"]
    assert rows["items"] == {"$ref": "#/components/schemas/FunnelRow"}
    assert spec["components"]["schemas"]["FunnelRow"]["examples"]


def test_the_term_has_one_name_in_every_model(spec: dict[str, Any]) -> None:
    schemas = spec["components"]["schemas"]
    names = {prop for schema in schemas.values() for prop in schema.get("properties", {})}
    assert not names & {"requested_term", "accepted_term"}
    for model in ("ReviewItem", "ApplicationSummary", "ApplicationRecord"):
        assert "term_months" in schemas[model]["properties"], model
    view = ApplicationView(
        application_id="a1",
        status=ApplicationStatus.AWAITING_SIGNATURE,
        next_action=NextAction.SIGN_CONTRACT,
        accepted_amount=500_000,
        accepted_term=12,
    )
    shown = ApplicantView.of(view)
    assert (shown.accepted_amount, shown.accepted_term_months) == (500_000, 12)
    assert "accepted_term_months" in schemas["ApplicationView"]["properties"]
    assert view.model_dump()["accepted_term_months"] == 12


async def test_a_generated_client_drives_one_application(client_package, api) -> None:
    from loanflow_client.models import (  # type: ignore[import-not-found]
        AcceptOfferInput,
        BankCard,
        BodyUploadDocument,
        Consents,
        Device,
        ErrorBody,
        StartApplicationRequest,
        SubmitDocumentsRequest,
        UploadKind,
        WithdrawInput,
    )
    from loanflow_client.types import File  # type: ignore[import-not-found]

    transport = httpx.ASGITransport(app=api.app)
    anonymous = client_package.Client(base_url="http://api", httpx_args={"transport": transport})
    request = StartApplicationRequest(
        client_request_id="generated-client-1",
        product_code="CASH_STD",
        phone="13900139000",
        requested_amount=300_000,
        term_months=12,
        device=Device(fingerprint="fp-generated-1", ip="10.0.0.9", os="Android 15"),
        consents=Consents(privacy_policy=True, credit_inquiry=True, carrier_data=True),
    )
    started = await _op("applicant.start_application").asyncio(client=anonymous, body=request)
    assert started.status.value == "AWAITING_DOCUMENTS"
    app_id = started.application_id
    client = client_package.AuthenticatedClient(
        base_url="http://api", token=started.applicant_token, httpx_args={"transport": transport}
    )
    upload = _op("applicant.upload_document")
    for kind, data in [("id_front", png()), ("id_back", png()), ("selfie", png())] + [
        ("liveness_video", MP4)
    ]:
        body = BodyUploadDocument(file=File(payload=data, file_name=f"{kind}.bin"))
        answer = await upload.asyncio_detailed(app_id, UploadKind(kind), client=client, body=body)
        assert answer.status_code == 202, answer.content
    submitted = await _op("applicant.submit_documents").asyncio(
        app_id,
        client=client,
        body=SubmitDocumentsRequest(full_name="张三", id_number="11010519900307123X"),
    )
    assert submitted.status.value == "OFFERED" and submitted.offer.limit == 1_000_000
    card = BankCard(number="6222020200112233445", bank_code="ICBC", reserved_phone="13900139000")
    accepted = await _op("applicant.accept_offer").asyncio(
        app_id, client=client, body=AcceptOfferInput(amount=500_000, term_months=12, bank_card=card)
    )
    assert accepted.accepted and accepted.status.value == "OFFERED"
    refused = await _op("applicant.submit_documents").asyncio(
        app_id,
        client=client,
        body=SubmitDocumentsRequest(full_name="张三", id_number="11010519900307123X"),
    )
    assert isinstance(refused, ErrorBody)
    assert (refused.code, refused.status) == ("wrong_stage", "OFFERED")
    withdrawn = await _op("applicant.withdraw").asyncio(
        app_id, client=client, body=WithdrawInput(reason="changed my mind")
    )
    assert withdrawn.status.value == "CANCELLED", "a step answers with the status after it"


def test_accept_language_chooses_the_applicant_messages() -> None:
    assert preferred_language(None) == Language.ZH
    assert preferred_language("en-US,en;q=0.9") == Language.EN
    assert preferred_language("zh-CN,zh;q=0.9,en;q=0.8") == Language.ZH
    assert preferred_language("fr, en;q=0.5") == Language.EN
    view = ApplicationView(
        application_id="a1",
        status=ApplicationStatus.REJECTED,
        next_action=NextAction.NONE,
        reasons=[ApplicantReason(code=ReasonCode.R007_LOW_SCORE, message="from the workflow")],
    )
    assert ApplicantView.of(view).reasons[0].message == "很抱歉，我们目前无法为您提供贷款。"
    english = ApplicantView.of(view, Language.EN).reasons[0].message
    assert english == "We cannot offer you a loan at this time."


def test_the_platform_blacklist_and_the_court_list_have_their_own_codes() -> None:
    from domain.reasons import REASONS

    platform, court = (
        REASONS[ReasonCode.P001_BLACKLISTED],
        REASONS[ReasonCode.P008_COURT_DISHONEST_DEBTOR],
    )
    assert platform.code != court.code and "court" in court.internal
