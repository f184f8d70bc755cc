"""Every text field of every route refuses control characters with a 422 naming the field, and
nothing is started or stored: the fields are found by walking the app's own OpenAPI, so a new
route or field is covered without touching this test."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from temporalio.client import Client

from tests.api.test_api import start_body

BAD = "ok\x00\x1b"


def _resolve(spec: dict, schema: dict) -> dict:
    while "$ref" in schema:
        schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def string_paths(spec: dict, schema: dict, at: tuple = (), depth: int = 0) -> Iterator[tuple]:
    """Paths to every string-typed leaf of a request schema."""
    schema = _resolve(spec, schema)
    if depth > 6:
        return
    for option in schema.get("anyOf", []) + schema.get("allOf", []):
        yield from string_paths(spec, option, at, depth + 1)
    kind = schema.get("type")
    if kind == "string" and "enum" not in schema and schema.get("format") != "binary":
        yield at
    elif kind == "object":
        for name, prop in schema.get("properties", {}).items():
            yield from string_paths(spec, prop, (*at, name), depth + 1)
        extra = schema.get("additionalProperties")
        if isinstance(extra, dict):
            yield from string_paths(spec, extra, (*at, "k"), depth + 1)
    elif kind == "array":
        yield from string_paths(spec, schema.get("items", {}), (*at, 0), depth + 1)


def document(path: tuple, leaf: Any) -> Any:
    if not path:
        return leaf
    head, rest = path[0], path[1:]
    return [document(rest, leaf)] if isinstance(head, int) else {head: document(rest, leaf)}


def cases(spec: dict) -> Iterator[tuple[str, str, dict, tuple]]:
    """(method, url, request kwargs, expected loc) for every text input of every operation."""
    for template, operations in spec["paths"].items():
        for method, op in operations.items():
            params = op.get("parameters", [])
            names = re.findall(r"{(\w+)}", template)
            plain = template
            for name in names:
                plain = plain.replace(f"{{{name}}}", "app_x")
            for name in names:
                yield method, template.replace(f"{{{name}}}", "a%00b"), {}, ("path", name)
            for param in params:
                if param["in"] == "query":
                    yield method, plain, {"params": {param["name"]: BAD}}, ("query", param["name"])
            content = op.get("requestBody", {}).get("content", {})
            if "application/json" in content:
                for leaf in string_paths(spec, content["application/json"]["schema"]):
                    body = document(leaf, BAD)
                    yield method, plain, {"json": body}, ("body", *leaf)


async def test_control_characters_in_every_text_input_are_refused(api, temporal: Client) -> None:
    spec = (await api.get("/openapi.json")).json()
    before = await temporal.count_workflows()
    seen = 0
    for method, url, kwargs, loc in cases(spec):
        response = await api.request(method.upper(), url, **kwargs)
        assert response.status_code == 422, (method, url, loc, response.text)
        locs = [tuple(d["loc"]) for d in response.json()["detail"]]
        assert tuple(loc) in locs, (method, url, loc, locs)
        assert "\\u0000" not in response.text
        seen += 1
    assert seen >= 30
    for field in ("client_request_id",):
        body = start_body(**{field: "crid\x00"})
        response = await api.post("/v1/applications", json=body)
        assert response.status_code == 422
    device = start_body()["device"] | {"fingerprint": "fp-0123456\x00", "ip": "10.0.0.\x01"}
    response = await api.post("/v1/applications", json=start_body(device=device))
    fields = {tuple(d["loc"]) for d in response.json()["detail"]}
    assert fields == {("body", "device", "fingerprint"), ("body", "device", "ip")}
    callback = await api.post(
        "/v1/callbacks/payments",
        content=b'{"order_id": "o\\u0000"}',
        headers={"Content-Type": "application/json"},
    )
    assert callback.status_code == 422
    assert (await temporal.count_workflows()).count == before.count


async def test_only_free_text_keeps_its_newlines(api) -> None:
    response = await api.post("/v1/applications", json=start_body(client_request_id="a\nb"))
    assert response.status_code == 422
    response = await api.post("/v1/applications", json=start_body())
    app_id, token = response.json()["application_id"], response.json()["applicant_token"]
    withdraw = await api.post(
        f"/v1/applications/{app_id}/withdraw",
        json={"reason": "found a cheaper loan\nthanks"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert withdraw.status_code == 200
