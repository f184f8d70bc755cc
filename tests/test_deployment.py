"""The compose file describes the deployment of DESIGN.md: checked by parsing (no Docker here)
against the code it runs: settings, modules, ports, probes, shutdown timeouts, pool sizes."""

from __future__ import annotations

import base64
import importlib.util
import json
import re
from pathlib import Path
from urllib.parse import urlparse

import pytest
import yaml
from alembic.script import ScriptDirectory
from prometheus_client import CollectorRegistry

from api.telemetry import ApiMetrics, StoreCollector
from cli import main as ops_cli
from config.settings import Settings, get_settings
from domain.naming import SearchAttributeName
from store.db import make_engine
from store.migrations import alembic_config, current, upgrade
from workers import main as main_worker
from workers import vision as vision_worker

ROOT = Path(__file__).resolve().parent.parent
LOANFLOW = ("blob-setup", "migrate", "mocks", "api", "worker", "vision-worker")
LONG_RUNNING = ("postgresql", "temporal", "seaweedfs", "mocks", "api", "worker", "vision-worker")
ONE_SHOT = ("temporal-schema", "temporal-setup", "migrate", "blob-setup")


def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def interpolate(value: str) -> str:
    """Compose's ${VAR:?message} and ${VAR:-default}, with a stand-in for required values."""

    def one(match: re.Match[str]) -> str:
        name, op, rest = match.group(1), match.group(2), match.group(3)
        if op == ":-":
            return rest
        if name == "LOANFLOW_PAYLOAD_ENCRYPTION_KEY":
            return base64.b64encode(b"k" * 32).decode()
        if name == "LOANFLOW_BLOB_ENCRYPTION_KEYS":
            return json.dumps({"deploy-1": base64.b64encode(b"b" * 32).decode()})
        if name == "LOANFLOW_BLOB_KEY_ID":
            return "deploy-1"
        return f"deploy-{name.lower()}"

    return re.sub(r"\$\{(\w+)(:[-?])?([^}]*)\}", one, value)


def environment(service: str) -> dict[str, str]:
    return {
        k: interpolate(str(v)) for k, v in compose()["services"][service]["environment"].items()
    }


def settings_of(service: str, monkeypatch: pytest.MonkeyPatch) -> Settings:
    for key, value in environment(service).items():
        monkeypatch.setenv(key, value)
    return Settings()


def test_compose_names_every_process_of_the_design() -> None:
    services = compose()["services"]
    for name in (
        "postgresql",
        "temporal-schema",
        "temporal",
        "temporal-setup",
        "temporal-ui",
        "seaweedfs",
        *LOANFLOW,
    ):
        assert name in services, name


def test_images_are_pinned_and_temporal_uses_the_supported_server_image() -> None:
    services = compose()["services"]
    for name, service in services.items():
        image = service["image"]
        assert ":" in image and not image.endswith(":latest") or name in LOANFLOW, image
    assert services["temporal"]["image"].startswith("temporalio/server:")
    assert not any("auto-setup" in s["image"] for s in services.values())
    assert "minio" not in json.dumps(services)
    server = services["temporal"]["image"].split(":")[1]
    for tool in ("temporal-schema", "temporal-setup"):
        assert services[tool]["image"] == f"temporalio/admin-tools:{server}"
    script = " ".join(services["temporal-schema"]["command"])
    for db, schema in (("temporal", "temporal"), ("temporal_visibility", "visibility")):
        assert f"{db}:{schema}" in script
    assert "setup-schema -v 0.0" in script and "update-schema" in script


def test_loanflow_services_run_modules_that_exist() -> None:
    services = compose()["services"]
    for name in LOANFLOW:
        assert services[name]["environment"]["LOANFLOW_ENVIRONMENT"] == "production"
        command = services[name]["command"]
        if name == "migrate":
            continue  # the installed script: the next test
        assert command[:2] == ["python", "-m"]
        assert importlib.util.find_spec(command[2]) is not None, command[2]


def test_the_migrate_job_runs_the_migrations_with_the_images_script(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    command = compose()["services"]["migrate"]["command"]
    assert command == ["loanflow", "db", "upgrade"]
    # the image installs the `loanflow` script and puts the source tree (`store`) on the path
    assert 'loanflow = "cli.main:main"' in (ROOT / "pyproject.toml").read_text()
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "--no-deps --no-build-isolation -e ." in dockerfile
    assert "PATH=/app/.venv/bin:$PATH PYTHONPATH=/app " in dockerfile
    assert "WORKDIR /app" in dockerfile
    args = ops_cli.parser().parse_args(command[1:])
    assert args.run is ops_cli.cmd_db_upgrade and args.revision == "head"
    # what the job does, on an empty SQLite file in place of the compose PostgreSQL
    url = f"sqlite:///{tmp_path / 'migrate.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    get_settings.cache_clear()
    try:
        ops_cli.main(command[1:])
    finally:
        get_settings.cache_clear()
    head = ScriptDirectory.from_config(alembic_config(url)).get_current_head()
    assert head and current(url) == head


def test_every_variable_given_to_loanflow_is_a_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    known = {f"LOANFLOW_{name.upper()}" for name in Settings.model_fields} | {"DATABASE_URL"}
    for name in LOANFLOW:
        unknown = set(environment(name)) - known
        assert not unknown, (name, unknown)
        settings = settings_of(name, monkeypatch)  # valid production settings
        assert settings.environment == "production"
        assert settings.blob_url.startswith("s3://")
        assert urlparse(settings.s3_endpoint_url).hostname == "seaweedfs"


def test_production_secrets_are_required_not_defaulted() -> None:
    env = compose()["services"]["api"]["environment"]
    for key in (
        "LOANFLOW_PAYLOAD_ENCRYPTION_KEY",
        "LOANFLOW_TOKEN_SECRET",
        "LOANFLOW_BLOB_ENCRYPTION_KEYS",
        "LOANFLOW_S3_SECRET_ACCESS_KEY",
        "LOANFLOW_SEAL_PKCS12_PASSPHRASE",
    ):
        assert ":?" in env[key], key


def test_compose_registers_the_search_attributes_the_workflow_upserts() -> None:
    script = " ".join(compose()["services"]["temporal-setup"]["command"])
    for name in SearchAttributeName.KEYWORDS:
        assert f"--name {name} --type Keyword" in script
    for name in SearchAttributeName.DOUBLES:
        assert f"--name {name} --type Double" in script
    for name in SearchAttributeName.INTS:
        assert f"--name {name} --type Int" in script


def test_start_order_waits_for_schemas_bucket_and_health() -> None:
    services = compose()["services"]
    for name, service in services.items():
        for dependency, rule in (service.get("depends_on") or {}).items():
            assert dependency in services, (name, dependency)
            expected = (
                "service_completed_successfully" if dependency in ONE_SHOT else "service_healthy"
            )
            assert rule["condition"] == expected, (name, dependency)
    for name in ("api", "worker", "vision-worker"):
        needs = services[name]["depends_on"]
        assert {"migrate", "blob-setup", "temporal-setup", "postgresql"} <= set(needs), name
    assert "temporal-schema" in services["temporal"]["depends_on"]
    for name in ONE_SHOT:
        assert services[name]["restart"] in ("no", "on-failure:5"), name


def test_long_running_services_have_healthchecks_on_their_own_ports(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    services = compose()["services"]
    for name in LONG_RUNNING:
        assert "healthcheck" in services[name], name
    for name in ("worker", "vision-worker"):
        settings = settings_of(name, monkeypatch)
        probe = " ".join(services[name]["healthcheck"]["test"])
        assert f"127.0.0.1:{settings.worker_health_port}/readyz" in probe
        assert settings.listen_host == "0.0.0.0" and settings.worker_metrics_port
    api = " ".join(services["api"]["healthcheck"]["test"])
    assert "127.0.0.1:8000/readyz" in api and "8000:8000" in services["api"]["ports"]


def seconds(value: str) -> float:
    match = re.fullmatch(r"(\d+)(s|m)", value)
    assert match, value
    return int(match.group(1)) * (60 if match.group(2) == "m" else 1)


def test_stop_grace_periods_cover_each_workers_shutdown() -> None:
    services = compose()["services"]
    for name, module in (("worker", main_worker), ("vision-worker", vision_worker)):
        grace = seconds(services[name]["stop_grace_period"])
        assert grace > module.GRACEFUL_SHUTDOWN.total_seconds(), name


def test_the_vision_pool_is_sized_by_the_cpu_limit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    service = compose()["services"]["vision-worker"]
    cpus = float(service["deploy"]["resources"]["limits"]["cpus"])
    settings = settings_of("vision-worker", monkeypatch)
    assert settings.vision_pool_size == 0  # not pinned: read from the limit
    # what the container runtime writes for `cpus: N` (cgroup v2), read by the pool
    cpu_max = tmp_path / "cpu.max"
    cpu_max.write_text(f"{int(cpus * 100_000)} 100000\n")
    read = vision_worker.available_cpus
    unlimited = read(tmp_path / "absent")
    monkeypatch.setattr(vision_worker, "available_cpus", lambda: read(cpu_max))
    assert vision_worker.pool_size(settings) == min(int(cpus), unlimited)
    memory = service["deploy"]["resources"]["limits"]["memory"]
    assert int(memory.rstrip("M")) >= 480 * int(cpus) + 256  # ~480 MiB a pool process


def test_available_cpus_reads_the_cgroup_quota(tmp_path: Path) -> None:
    cpu_max = tmp_path / "cpu.max"
    cpu_max.write_text("max 100000\n")
    unlimited = vision_worker.available_cpus(cpu_max)
    cpu_max.write_text("100000 100000\n")
    assert vision_worker.available_cpus(cpu_max) == 1
    cpu_max.write_text("150000 100000\n")
    assert vision_worker.available_cpus(cpu_max) == min(2, unlimited)


def test_the_web_ui_reaches_the_codec_endpoint_from_an_allowed_origin(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    services = compose()["services"]
    ui = services["temporal-ui"]
    codec = urlparse(ui["environment"]["TEMPORAL_CODEC_ENDPOINT"])
    api_host_port = services["api"]["ports"][0].split(":")[0]
    assert (codec.hostname, str(codec.port), codec.path) == ("localhost", api_host_port, "/codec")
    ui_origin = f"http://localhost:{ui['ports'][0].split(':')[0]}"
    assert ui_origin in settings_of("api", monkeypatch).codec_cors_origins


def test_the_grafana_dashboard_reads_metrics_the_processes_export(tmp_path: Path) -> None:
    dashboard = json.loads((ROOT / "deploy" / "grafana-dashboard.json").read_text())
    exprs = [t["expr"] for panel in dashboard["panels"] for t in panel["targets"]]
    url = f"sqlite:///{tmp_path / 'metrics.db'}"
    upgrade(url)
    registry = CollectorRegistry()
    ApiMetrics(registry)
    engine = make_engine(url)
    registry.register(StoreCollector(lambda: engine))
    exported = {family.name for family in registry.collect()}
    engine.dispose()
    ours = {m for e in exprs for m in re.findall(r"\bloanflow_\w+", e)}
    assert ours, "no loanflow metric on the dashboard"
    for metric in ours:
        assert re.sub(r"_(total|bucket|count|sum)$", "", metric) in exported, metric
    titles = " ".join(p["title"].lower() for p in dashboard["panels"])
    for figure in ("per stage", "decision latency", "vision queue", "schedule-to-start", "payout"):
        assert figure in titles, figure


def requirement_names(text: str) -> set[str]:
    return {
        re.split(r"[<>=!~\[; ]", line.strip().strip('"'), maxsplit=1)[0].lower().replace("_", "-")
        for line in text.splitlines()
        if line.strip() and not line.lstrip().startswith(("#", "--"))
    }


def test_installs_come_from_locks_with_hashes() -> None:
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    locks = {
        name: (ROOT / name).read_text()
        for name in ("requirements.lock", "requirements-runtime.lock", "requirements-nodeps.lock")
    }
    for name, text in locks.items():
        pins = [line for line in text.splitlines() if re.match(r"^[A-Za-z0-9]", line)]
        assert pins, name
        for pin in pins:
            assert re.match(r"^[A-Za-z0-9._-]+(\[[^]]+\])?==\S+ \\$", pin), (name, pin)
        assert text.count("--hash=sha256:") >= len(pins), name
    runtime = requirement_names(locks["requirements-runtime.lock"])
    everything = requirement_names(locks["requirements.lock"])
    wanted = requirement_names("\n".join(project["dependencies"]))
    assert wanted <= runtime, f"relock (scripts/lock.sh): {wanted - runtime}"
    extras = {d for deps in project["optional-dependencies"].values() for d in deps}
    assert requirement_names("\n".join(extras)) - {"loanflow"} <= everything
    assert not {"pandas", "scikit-learn", "optbinning", "pytest"} & runtime

    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "--require-hashes -r requirements-runtime.lock" in dockerfile
    bootstrap = (ROOT / "scripts" / "bootstrap.sh").read_text()
    assert "--require-hashes" in bootstrap and "requirements.lock" in bootstrap
    assert ".venv" in (ROOT / ".dockerignore").read_text().split()


def test_running_processes_never_import_the_training_packages() -> None:
    allowed = {Path("decisioning/train.py")}
    for path in ROOT.glob("*/**/*.py"):
        relative = path.relative_to(ROOT)
        if relative.parts[0] in ("tests", "bench", ".venv", ".data") or relative in allowed:
            continue
        source = path.read_text()
        found = re.findall(
            r"^\s*(?:import|from) (pandas|sklearn|optbinning|scipy|ortools)\b", source, re.M
        )
        assert not found, (relative, found)
        assert "decisioning.train" not in source or relative.parts[0] == "decisioning", relative


def test_the_cluster_reads_its_transfer_queue_unthrottled_like_the_dev_server() -> None:
    """The history service's default (20 reads of the transfer queue a second) made every
    workflow step wait for a read; the cluster's dynamic config lifts it, as the dev server's
    flags do (devtools.stack.DEV_SERVER_TUNING)."""
    from devtools.stack import DEV_SERVER_TUNING

    temporal = compose()["services"]["temporal"]
    path = temporal["environment"]["DYNAMIC_CONFIG_FILE_PATH"]
    mounts = {m.split(":")[1]: m.split(":")[0] for m in temporal["volumes"]}
    config = yaml.safe_load((ROOT / mounts[path]).read_text())
    key, value = DEV_SERVER_TUNING[1].split("=")
    assert config[key][0]["value"] >= 100
    assert int(value) >= config[key][0]["value"]
