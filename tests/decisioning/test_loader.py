"""A policy is checked before it may serve: a file with a syntax error, a missing field, a bad
expression or a price above the cap is refused with the file and node named, and the running
policy keeps serving."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from decisioning import evaluate
from decisioning.evaluator import PolicyEvaluator
from decisioning.loader import PolicyLoadError, load_policy
from domain.enums import DecisionOutcome
from tests.decisioning.conftest import DEFAULT_POLICY, make_input


def copy_policy(tmp_path: Path, name: str = "candidate") -> Path:
    target = tmp_path / name
    shutil.copytree(DEFAULT_POLICY, target)
    return target


def edit(path: Path, change: Callable[[Any], None]) -> None:
    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data, indent=2))


def node(graph: dict[str, Any], name: str) -> dict[str, Any]:
    return next(n for n in graph["nodes"] if n["name"] == name)


def row(graph: dict[str, Any], rule: str) -> dict[str, Any]:
    return next(r for r in node(graph, "rules")["content"]["rules"] if r["_id"] == rule)


def refused(folder: Path) -> PolicyLoadError:
    with pytest.raises(PolicyLoadError) as caught:
        load_policy(folder)
    return caught.value


def test_the_default_policy_loads(policy_evaluator: PolicyEvaluator) -> None:
    policy = load_policy(DEFAULT_POLICY)
    assert policy.version == "2026.11-std" and len(policy.hash) == 64
    assert policy.prices.apr_cap == 0.24
    assert max(b.annual_rate for b in policy.prices.bands) <= 0.24
    assert policy.hash == policy_evaluator.active.hash  # the hash is of the content alone


def test_a_json_syntax_error_names_the_file_and_place(tmp_path: Path) -> None:
    folder = copy_policy(tmp_path)
    text = (folder / "decide.json").read_text()
    (folder / "decide.json").write_text(
        text.replace('"hitPolicy": "collect",', '"hitPolicy": "collect"', 1)
    )
    error = refused(folder)
    assert error.file == folder / "decide.json"
    assert "not valid JSON: line" in str(error) and "decide.json" in str(error)


def test_a_rule_without_its_id_is_refused_naming_the_node(tmp_path: Path) -> None:
    folder = copy_policy(tmp_path)
    edit(folder / "decide.json", lambda g: row(g, "R002_current_overdue").pop("o_rule"))
    error = refused(folder)
    assert (error.file.name, error.node) == ("decide.json", "rules")
    assert "row R002_current_overdue: missing field 'rule'" in str(error)


@pytest.mark.parametrize(
    ("graph", "rule", "cell", "value", "problem"),
    [
        ("decide.json", "R004_inquiries_3m", "i_when", "bureau.inquiries_3m >", "parserError"),
        (
            "prescreen.json",
            "P002_velocity_device_24h",
            "o_reason",
            '"P999"',
            "unknown reason code 'P999'",
        ),
        ("pre_payout.json", "D001_new_lenders_6m", "o_queue", "", "names its queue"),
        ("decide.json", "R002_current_overdue", "o_action", '"DECLINE"', "REJECT or REVIEW"),
        ("decide.json", "R002_current_overdue", "o_reason", "", "missing field 'reason'"),
    ],
)
def test_a_bad_rule_cell_is_refused_naming_file_and_node(
    tmp_path: Path, graph: str, rule: str, cell: str, value: str, problem: str
) -> None:
    folder = copy_policy(tmp_path)
    edit(folder / graph, lambda g: row(g, rule).update({cell: value}))
    error = refused(folder)
    assert (error.file.name, error.node) == (graph, "rules")
    assert problem in str(error)


def test_a_price_above_the_cap_is_refused_at_load(tmp_path: Path) -> None:
    folder = copy_policy(tmp_path)
    grade_d = lambda g: node(g, "grades")["content"]["rules"][-1]  # noqa: E731
    edit(folder / "decide.json", lambda g: grade_d(g).update(o_rate="0.25"))
    error = refused(folder)
    assert (error.file.name, error.node) == ("decide.json", "grades")
    assert "grade D" in str(error) and "above the cap 0.2400" in str(error)

    folder = copy_policy(tmp_path, "fees")
    edit(folder / "decide.json", lambda g: grade_d(g).update(o_fee="0.01"))
    assert "above the cap" in str(refused(folder))


def test_a_cap_above_the_legal_ceiling_is_refused(tmp_path: Path) -> None:
    folder = copy_policy(tmp_path)
    edit(folder / "policy.json", lambda m: m.update(apr_cap=0.37))
    error = refused(folder)
    assert error.node == "grades" and "legal cap" in str(error)


def test_a_price_that_is_not_a_literal_is_refused(tmp_path: Path) -> None:
    folder = copy_policy(tmp_path)
    edit(
        folder / "decide.json",
        lambda g: node(g, "grades")["content"]["rules"][0].update(o_rate="score.value / 1000"),
    )
    error = refused(folder)
    assert error.node == "grades" and "must be a literal" in str(error)


@pytest.mark.parametrize(
    ("file", "change", "node_name", "problem"),
    [
        ("policy.json", lambda m: m.pop("apr_cap"), None, "apr_cap: Field required"),
        ("policy.json", lambda m: m["graphs"].pop("pre_payout"), None, "graphs.pre_payout"),
        ("decide.json", lambda g: g["nodes"].remove(node(g, "grades")), "grades", "missingNode"),
        (
            "decide.json",
            lambda g: node(g, "grades").update(name="prices"),
            "grades",
            "missing node: the grade and price table",
        ),
        (
            "decide.json",
            lambda g: node(g, "limit").update(type="functionNode"),
            "limit",
            "not allowed",
        ),
        (
            "decide.json",
            lambda g: g["edges"][0].update(targetId="nowhere"),
            "nowhere",
            "refused by zen-engine",
        ),
        (
            "prescreen.json",
            lambda g: node(g, "rules")["content"]["rules"].append(
                dict(node(g, "rules")["content"]["rules"][0])
            ),
            None,
            "rule ids must be unique",
        ),
        (
            "scorecard.json",
            lambda c: c["characteristics"][0].update(name="shoe_size"),
            "shoe_size",
            "no such feature",
        ),
        (
            "scorecard.json",
            lambda c: c["characteristics"][0]["bins"][1].update(lower=-1.0),
            None,
            "contiguous",
        ),
        ("scorecard.json", lambda c: c.pop("base_points"), None, "base_points"),
    ],
)
def test_missing_or_wrong_fields_are_refused(
    tmp_path: Path,
    file: str,
    change: Callable[[Any], None],
    node_name: str | None,
    problem: str,
) -> None:
    folder = copy_policy(tmp_path)
    edit(folder / file, change)
    error = refused(folder)
    assert error.file.name in (file, "decide.json") and error.node == node_name
    assert problem in str(error)


def test_a_refused_policy_leaves_the_running_one_serving(tmp_path: Path) -> None:
    engine = PolicyEvaluator(DEFAULT_POLICY)
    running = engine.active
    broken = copy_policy(tmp_path, "broken")
    (broken / "pre_payout.json").write_text("{ not json")
    with pytest.raises(PolicyLoadError, match="pre_payout.json"):
        engine.activate(broken)
    assert engine.active is running
    decision = evaluate.decide(engine, engine.active, make_input())
    assert decision.outcome == DecisionOutcome.APPROVE and decision.policy_hash == running.hash

    stricter = copy_policy(tmp_path, "stricter")
    edit(stricter / "policy.json", lambda m: m.update(version="2026.11-strict"))
    edit(
        stricter / "decide.json",
        lambda g: row(g, "R004_inquiries_3m").update(i_when="bureau.inquiries_3m > 0"),
    )
    engine.activate(stricter)
    decision = evaluate.decide(engine, engine.active, make_input())
    assert decision.outcome == DecisionOutcome.REJECT
    assert decision.policy_version == "2026.11-strict" and decision.policy_hash != running.hash
    # The earlier policy stays registered: replay and in-flight comparisons can still use it.
    assert evaluate.decide(engine, running, make_input()).outcome == DecisionOutcome.APPROVE
