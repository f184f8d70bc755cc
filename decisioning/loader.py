"""Loading a policy version from `policies/<version>/`: the manifest, three JDM decision graphs
and a scorecard points table. Everything is checked before a policy may serve: JSON syntax,
graph structure, every expression cell, the rule tables' outputs, the scorecard's bins and
features, and the price table against the APR cap. A refusal names the file and the node.

The layout is described in `policies/README.md`.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import zen
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from decisioning.facts import FEATURES
from decisioning.scorecard import Scorecard
from domain.policy import PriceBand, PriceTable, RuleAction
from domain.pricing import PriceAboveCap
from domain.products import PRODUCTS, Product
from domain.reasons import ReasonCode

GRAPHS = ("prescreen", "decide", "pre_payout")
NODE_TYPES = {"inputNode", "outputNode", "decisionTableNode", "expressionNode", "switchNode"}
RULE_OUTPUTS = {"rule", "reason", "action"}
PRICE_NODE = "grades"
PRICE_OUTPUTS = ("grade", "limit_multiple", "max_limit", "annual_rate")


class PolicyLoadError(ValueError):
    """A policy refused at load; the message names the file and, where there is one, the node."""

    def __init__(self, file: Path, node: str | None, problem: str) -> None:
        self.file, self.node, self.problem = file, node, problem
        where = f"{file}" + (f", node {node!r}" if node else "")
        super().__init__(f"{where}: {problem}")


class Manifest(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    version: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$")
    description: str = ""
    apr_cap: float = Field(gt=0)
    top_reasons: int = Field(default=3, ge=1, description="reasons a rejection shows")
    graphs: dict[str, str]
    scorecard: str


@dataclass(frozen=True)
class Policy:
    """A loaded, checked policy version: immutable, identified by its content hash."""

    version: str
    hash: str
    path: Path
    manifest: Manifest
    graphs: dict[str, dict[str, Any]]
    scorecard: Scorecard
    prices: PriceTable
    rule_tables: dict[str, list[str]] = field(default_factory=dict)
    rule_ids: dict[str, list[str]] = field(default_factory=dict)

    @property
    def top_reasons(self) -> int:
        return self.manifest.top_reasons


def _read_json(path: Path) -> tuple[bytes, Any]:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise PolicyLoadError(path, None, f"cannot be read: {exc.strerror or exc}") from exc
    try:
        return raw, json.loads(raw)
    except json.JSONDecodeError as exc:
        raise PolicyLoadError(
            path, None, f"not valid JSON: line {exc.lineno} column {exc.colno}: {exc.msg}"
        ) from exc
    except UnicodeDecodeError as exc:
        raise PolicyLoadError(path, None, "not UTF-8 text") from exc


def _first_error(exc: ValidationError) -> str:
    err = exc.errors()[0]
    loc = ".".join(str(part) for part in err["loc"]) or "(top level)"
    return f"{loc}: {err['msg']}"


def _check_expression(file: Path, node: str, where: str, text: object, unary: bool) -> None:
    if not isinstance(text, str):
        raise PolicyLoadError(file, node, f"{where}: expected an expression string")
    if not text.strip():
        return
    if unary:
        # zen's validate_unary_expression parses as a standard expression (zen-engine 2.1), so
        # a unary cell is checked by compiling it.
        try:
            zen.compile_unary_expression(text)
            return
        except Exception as exc:
            raise PolicyLoadError(file, node, f"{where}: {_zen_detail(exc)} in {text!r}") from None
    problem = zen.validate_expression(text)
    if problem is not None:
        raise PolicyLoadError(
            file, node, f"{where}: {problem['type']} in {text!r}: {problem['source']}"
        )


def _zen_detail(exc: Exception) -> str:
    # zen appends a Rust backtrace when RUST_BACKTRACE is set: the first line is the error.
    return str(exc).split("\n", 1)[0]


def _literal(file: Path, node: str, where: str, text: object) -> Any:
    """An output cell that must be a constant (a rule id, an action, a price)."""
    try:
        return json.loads(text) if isinstance(text, str) and text.strip() else None
    except json.JSONDecodeError:
        raise PolicyLoadError(file, node, f"{where}: must be a literal, not {text!r}") from None


def _node_name(node: dict[str, Any], index: int) -> str:
    return str(node.get("name") or node.get("id") or f"#{index}")


def _check_table(file: Path, node: dict[str, Any], name: str) -> list[str]:
    """Check a decision table's cells; return the rule ids if it is a rule table."""
    content = node["content"]
    for key in ("hitPolicy", "inputs", "outputs", "rules"):
        if key not in content:
            raise PolicyLoadError(file, name, f"decision table without {key!r}")
    columns = {c.get("id"): c for c in content["inputs"]}
    outputs = {o.get("id"): o.get("field") for o in content["outputs"]}
    if None in columns or None in outputs or None in outputs.values():
        raise PolicyLoadError(file, name, "every input needs an id, every output an id and field")
    for i, row in enumerate(content["rules"]):
        row_id = row.get("_id", f"#{i}")
        for col_id, column in columns.items():
            _check_expression(
                file,
                name,
                f"row {row_id}, input {column.get('name', col_id)}",
                row.get(col_id, ""),
                unary=bool(column.get("field")),
            )
        for out_id, out_field in outputs.items():
            _check_expression(
                file, name, f"row {row_id}, output {out_field}", row.get(out_id, ""), unary=False
            )
    fields = {f: i for i, f in outputs.items()}
    if not RULE_OUTPUTS <= set(fields):
        return []
    if content["hitPolicy"] != "collect" or content.get("outputPath") != f"hits.{name}":
        raise PolicyLoadError(file, name, f"a rule table collects every hit into hits.{name}")
    ids = []
    for i, row in enumerate(content["rules"]):
        where = f"row {row.get('_id', f'#{i}')}"
        rule = _literal(file, name, f"{where}, rule", row.get(fields["rule"]))
        if not isinstance(rule, str) or not rule:
            raise PolicyLoadError(file, name, f"{where}: missing field 'rule' (the rule id)")
        action = _literal(file, name, f"{where}, action", row.get(fields["action"]))
        if action not in set(RuleAction):
            raise PolicyLoadError(file, name, f"rule {rule}: action must be REJECT or REVIEW")
        reason_cell = row.get(fields["reason"], "")
        if not str(reason_cell).strip():
            raise PolicyLoadError(file, name, f"rule {rule}: missing field 'reason'")
        try:
            reason = json.loads(reason_cell)
        except json.JSONDecodeError:
            reason = None  # an expression: its codes are checked when it is evaluated
        if isinstance(reason, str) and reason not in set(ReasonCode):
            raise PolicyLoadError(file, name, f"rule {rule}: unknown reason code {reason!r}")
        queue = _literal(file, name, f"{where}, queue", row.get(fields.get("queue", ""), ""))
        if action == RuleAction.REVIEW and not (isinstance(queue, str) and queue):
            raise PolicyLoadError(file, name, f"rule {rule}: a REVIEW rule names its queue")
        ids.append(rule)
    return ids


def _check_graph(file: Path, graph: Any) -> tuple[list[str], list[str]]:
    """Structure and cells of one JDM graph; returns its rule tables and rule ids."""
    if not isinstance(graph, dict) or not isinstance(graph.get("nodes"), list):
        raise PolicyLoadError(file, None, "missing field 'nodes'")
    if not isinstance(graph.get("edges"), list):
        raise PolicyLoadError(file, None, "missing field 'edges'")
    tables: list[str] = []
    rule_ids: list[str] = []
    for i, node in enumerate(graph["nodes"]):
        name = _node_name(node, i) if isinstance(node, dict) else f"#{i}"
        if not isinstance(node, dict):
            raise PolicyLoadError(file, name, "a node must be an object")
        for key in ("id", "name", "type"):
            if not node.get(key):
                raise PolicyLoadError(file, name, f"missing field {key!r}")
        if node["type"] not in NODE_TYPES:
            raise PolicyLoadError(file, name, f"node type {node['type']!r} is not allowed")
        if not isinstance(node.get("content", {}), dict):
            raise PolicyLoadError(file, name, "missing field 'content'")
        content = node.get("content", {})
        if node["type"] == "decisionTableNode":
            ids = _check_table(file, node, name)
            if ids:
                tables.append(name)
                rule_ids += ids
        elif node["type"] == "expressionNode":
            for expr in content.get("expressions", []):
                if not expr.get("key"):
                    raise PolicyLoadError(file, name, "missing field 'key' of an expression")
                _check_expression(
                    file, name, f"expression {expr['key']}", expr.get("value"), unary=False
                )
        elif node["type"] == "switchNode":
            for st in content.get("statements", []):
                _check_expression(
                    file, name, f"statement {st.get('id')}", st.get("condition", ""), unary=False
                )
    duplicates = {r for r in rule_ids if rule_ids.count(r) > 1}
    if duplicates:
        raise PolicyLoadError(file, None, f"rule ids must be unique: {sorted(duplicates)}")
    try:
        zen.ZenEngine().create_decision(json.dumps(graph)).validate()
    except Exception as exc:  # zen raises a plain RuntimeError with a JSON detail
        detail = _zen_detail(exc)
        node_id = _error_node(detail)
        raise PolicyLoadError(file, node_id, f"graph refused by zen-engine: {detail}") from None
    return tables, rule_ids


def _error_node(detail: str) -> str | None:
    try:
        return str(json.loads(detail).get("nodeId")) or None
    except (json.JSONDecodeError, AttributeError):
        return None


def _price_table(
    file: Path, graph: dict[str, Any], apr_cap: float, products: Iterable[Product]
) -> PriceTable:
    node = next((n for n in graph["nodes"] if n.get("name") == PRICE_NODE), None)
    if node is None or node["type"] != "decisionTableNode":
        raise PolicyLoadError(file, PRICE_NODE, "missing node: the grade and price table")
    content = node["content"]
    by_field = {o["field"]: o["id"] for o in content["outputs"]}
    missing = [f for f in PRICE_OUTPUTS if f not in by_field]
    if missing or content.get("outputPath") != "offer" or content["hitPolicy"] != "first":
        raise PolicyLoadError(
            file,
            PRICE_NODE,
            f"must be a first-hit table into 'offer' with "
            f"outputs {list(PRICE_OUTPUTS)}; missing {missing}",
        )
    bands: list[PriceBand] = []
    for row in content["rules"]:
        where = f"row {row.get('_id')}"
        values = {
            f: _literal(file, PRICE_NODE, f"{where}, {f}", row.get(i, ""))
            for f, i in by_field.items()
            if f in (*PRICE_OUTPUTS, "monthly_fee_rate")
        }
        try:
            band = PriceBand.model_validate({k: v for k, v in values.items() if v is not None})
        except ValidationError as exc:
            raise PolicyLoadError(file, PRICE_NODE, f"{where}: {_first_error(exc)}") from None
        bands.append(band)
    try:
        return PriceTable(bands=tuple(bands), apr_cap=apr_cap, products=tuple(products))
    except ValidationError as exc:
        cause = exc.errors()[0].get("ctx", {}).get("error")
        problem = str(cause) if isinstance(cause, PriceAboveCap) else _first_error(exc)
        raise PolicyLoadError(file, PRICE_NODE, f"refused: {problem}") from None


def _scorecard(file: Path, data: Any) -> Scorecard:
    try:
        card = Scorecard.model_validate(data)
    except ValidationError as exc:
        raise PolicyLoadError(file, None, _first_error(exc)) from None
    unknown = [name for name in card.features if name not in FEATURES]
    if unknown:
        raise PolicyLoadError(file, unknown[0], "no such feature in decisioning.facts.FEATURES")
    return card


def load_policy(path: Path | str, products: Iterable[Product] | None = None) -> Policy:
    """Load and check `path` (a policy directory, or its policy.json)."""
    path = Path(path)
    manifest_file = path if path.suffix == ".json" else path / "policy.json"
    folder = manifest_file.parent
    raw, data = _read_json(manifest_file)
    try:
        manifest = Manifest.model_validate(data)
    except ValidationError as exc:
        raise PolicyLoadError(manifest_file, None, _first_error(exc)) from None
    missing = [g for g in GRAPHS if g not in manifest.graphs]
    if missing:
        raise PolicyLoadError(manifest_file, None, f"missing field graphs.{missing[0]}")
    digest = hashlib.sha256(raw)
    graphs: dict[str, dict[str, Any]] = {}
    tables: dict[str, list[str]] = {}
    rule_ids: dict[str, list[str]] = {}
    for graph in GRAPHS:
        file = folder / manifest.graphs[graph]
        graph_raw, graphs[graph] = _read_json(file)
        tables[graph], rule_ids[graph] = _check_graph(file, graphs[graph])
        digest.update(graph.encode() + b"\0" + graph_raw)
    prices = _price_table(
        folder / manifest.graphs["decide"],
        graphs["decide"],
        manifest.apr_cap,
        products if products is not None else PRODUCTS.values(),
    )
    card_raw, card_data = _read_json(folder / manifest.scorecard)
    card = _scorecard(folder / manifest.scorecard, card_data)
    digest.update(b"scorecard\0" + card_raw)
    return Policy(
        version=manifest.version,
        hash=digest.hexdigest(),
        path=folder,
        manifest=manifest,
        graphs=graphs,
        scorecard=card,
        prices=prices,
        rule_tables=tables,
        rule_ids=rule_ids,
    )
