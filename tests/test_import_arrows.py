"""The import arrows of the README's architecture section, checked on the source: each room
imports only the rooms below it, and no production room imports the generators of test data
(`synthetic/`), `bench/`, `devtools/`, `mocks/` or `tests/`."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# What each production room may import besides itself (the standard library and third-party
# packages are not rooms). `config` is the process settings, read by the rooms that build
# clients; `workers` are entrypoints and wire every room they run.
ALLOWED: dict[str, set[str]] = {
    "domain": set(),
    "config": set(),
    "vision": {"domain"},
    "vendors": {"domain"},
    # config: the blob-store factory and its setup command read the Settings
    "store": {"domain", "config"},
    "contracts": {"domain"},
    "decisioning": {"domain"},
    "workflows": {"domain"},
    "activities": {"domain", "config", "vision", "vendors", "store", "contracts", "decisioning"},
    # vendors: a late RETURNED callback is confirmed against the payment gateway's order;
    # reports: the funnel served to signed-in ops
    "api": {"domain", "config", "store", "vendors", "reports"},
    "commands": {"domain", "config", "decisioning", "store"},
    # the funnel report reads the store's trail; its command reads the Settings
    "reports": {"domain", "config", "store"},
    # the ops CLI speaks HTTP only; its `db` commands run the store's migrations
    "cli": {"config", "store"},
    "workers": {
        "domain",
        "config",
        "workflows",
        "activities",
        "vision",
        "vendors",
        "store",
        "contracts",
        "decisioning",
    },
}
NOT_PRODUCTION = {"synthetic", "bench", "devtools", "mocks", "tests", "samples"}
ROOMS = set(ALLOWED) | NOT_PRODUCTION | {"policies"}


def imported_rooms(path: Path) -> dict[str, int]:
    """Every room a module imports, at any depth (a lazy import inside a function counts too),
    with the line of the first import. Imports for type checking only are not dependencies."""
    found: dict[str, int] = {}
    tree = ast.parse(path.read_text(), str(path))
    typing_only = {
        id(inner)
        for node in ast.walk(tree)
        if isinstance(node, ast.If) and ast.unparse(node.test).endswith("TYPE_CHECKING")
        for inner in ast.walk(node)
    }
    for node in ast.walk(tree):
        if id(node) in typing_only:
            continue
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        for name in names:
            top = name.split(".")[0]
            if top in ROOMS:
                found.setdefault(top, node.lineno)
    return found


def violations(room: str) -> list[str]:
    bad = []
    for path in sorted((ROOT / room).rglob("*.py")):
        for target, line in imported_rooms(path).items():
            if target != room and target not in ALLOWED[room]:
                bad.append(f"{path.relative_to(ROOT)}:{line} imports {target}")
    return bad


@pytest.mark.parametrize("room", sorted(ALLOWED))
def test_room_imports_only_the_rooms_below_it(room: str) -> None:
    assert (ROOT / room).is_dir()
    assert violations(room) == []


def test_mocks_speak_the_wire_protocol_and_import_only_domain() -> None:
    bad = [
        f"{path.relative_to(ROOT)} imports {target}"
        for path in sorted((ROOT / "mocks").rglob("*.py"))
        for target in imported_rooms(path)
        if target not in {"mocks", "domain", "synthetic"}
    ]
    assert bad == []


def test_the_checker_sees_a_forbidden_import(tmp_path: Path) -> None:
    module = tmp_path / "sneaky.py"
    module.write_text("def f():\n    from synthetic.id_cards import card_front\n")
    assert imported_rooms(module) == {"synthetic": 2}
