"""The behaviour-monitoring policy of credit lines: one JDM decision graph, versioned under
`policies/monitoring/<version>/`, evaluated by zen-engine like the credit policy.

Input: the signal (kind, new loans elsewhere), the line (status, who froze it, limit, overdue
days, on-time debits). Output: an action (NONE, LOWER, RAISE, FREEZE, UNFREEZE), a factor for
LOWER / RAISE, the reason code and the rule that fired. Loading checks the graph with zen, and
every action and reason code of every rule against the domain, so a typo never reaches a line.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import zen
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from decisioning.loader import PolicyLoadError, _read_json
from domain.line_messages import LimitDecision, MonitoringInput
from domain.lines import LimitAction
from domain.reasons import ReasonCode

DEFAULT_MONITORING_POLICY = (
    Path(__file__).resolve().parent.parent / "policies" / "monitoring" / "2026.11-mon"
)


class MonitoringManifest(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    version: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$")
    description: str = ""
    graph: str


@dataclass(frozen=True)
class MonitoringPolicy:
    version: str
    hash: str
    decision: Any  # zen.ZenDecision, parsed once

    def evaluate(self, inp: MonitoringInput) -> LimitDecision:
        context = inp.model_dump(mode="json")
        result = self.decision.evaluate(context)["result"]
        reason = result.get("reason") or ""
        return LimitDecision(
            action=LimitAction(result.get("action", "NONE")),
            factor=float(result.get("factor", 1.0)),
            reasons=[ReasonCode(reason)] if reason else [],
            rule=str(result.get("rule", "")),
            policy_version=self.version,
            policy_hash=self.hash,
        )


def load_monitoring_policy(folder: Path | str = DEFAULT_MONITORING_POLICY) -> MonitoringPolicy:
    folder = Path(folder)
    manifest_file = folder / "policy.json"
    manifest_raw, data = _read_json(manifest_file)
    try:
        manifest = MonitoringManifest.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        raise PolicyLoadError(manifest_file, None, f"{err['loc']}: {err['msg']}") from None
    graph_file = folder / manifest.graph
    graph_raw, graph = _read_json(graph_file)
    _check_rules(graph_file, graph)
    try:
        decision = zen.ZenEngine().create_decision(json.dumps(graph))
        decision.validate()
    except Exception as exc:
        raise PolicyLoadError(graph_file, None, f"graph refused by zen-engine: {exc}") from None
    digest = hashlib.sha256(manifest_raw + b"\0" + graph_raw).hexdigest()
    return MonitoringPolicy(version=manifest.version, hash=digest, decision=decision)


def _check_rules(file: Path, graph: Any) -> None:
    nodes = graph.get("nodes") if isinstance(graph, dict) else None
    if not isinstance(nodes, list):
        raise PolicyLoadError(file, None, "missing field 'nodes'")
    for node in nodes:
        if node.get("type") != "decisionTableNode":
            continue
        fields = {o["id"]: o["field"] for o in node["content"].get("outputs", [])}
        for rule in node["content"].get("rules", []):
            cells = {fields[k]: v for k, v in rule.items() if k in fields}
            where = f"rule {rule.get('_id')}"
            try:
                LimitAction(json.loads(cells.get("action") or '"NONE"'))
                reason = json.loads(cells.get("reason") or '""')
                if reason:
                    ReasonCode(reason)
                float(cells.get("factor") or "1")
            except (ValueError, json.JSONDecodeError) as exc:
                raise PolicyLoadError(file, node.get("name"), f"{where}: {exc}") from None
