"""The compose file describes the deployment of DESIGN.md: checked by parsing (no Docker here)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import yaml

from domain.naming import SearchAttributeName

ROOT = Path(__file__).resolve().parent.parent


def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_compose_names_every_process_of_the_design() -> None:
    services = compose()["services"]
    for name in (
        "postgresql",
        "temporal",
        "temporal-ui",
        "minio",
        "mocks",
        "api",
        "worker",
        "vision-worker",
    ):
        assert name in services, name


def test_loanflow_services_run_modules_that_exist() -> None:
    services = compose()["services"]
    for name in ("mocks", "api", "worker", "vision-worker"):
        command = services[name]["command"]
        assert command[:2] == ["python", "-m"]
        assert importlib.util.find_spec(command[2]) is not None, command[2]
        assert services[name]["environment"]["LOANFLOW_ENVIRONMENT"] == "production"


def test_compose_registers_the_search_attributes_the_workflow_upserts() -> None:
    script = " ".join(compose()["services"]["temporal-setup"]["command"])
    for name in SearchAttributeName.KEYWORDS:
        assert f"--name {name} --type Keyword" in script
    for name in SearchAttributeName.DOUBLES:
        assert f"--name {name} --type Double" in script


def test_production_secrets_are_required_not_defaulted() -> None:
    env = compose()["services"]["api"]["environment"]
    for key in ("LOANFLOW_PAYLOAD_ENCRYPTION_KEY", "LOANFLOW_TOKEN_SECRET"):
        assert ":?" in env[key], key
