"""The Temporal client's connection from configuration: Temporal's environment configuration
(variables and a TOML profile), loanflow's settings on top, TLS / mTLS from files, an API key,
and worker deployment versioning."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from temporalio.common import VersioningBehavior
from temporalio.service import TLSConfig
from temporalio.testing import WorkflowEnvironment

from config.settings import Settings
from config.temporal import client_connect_config, connect, deployment_config


def pem_pair(folder: Path, name: str) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / f"{name}.crt", folder / f"{name}.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


def test_defaults_reach_the_local_dev_server_without_tls() -> None:
    config = client_connect_config(Settings(), env={})
    assert config == {"target_host": "127.0.0.1:7233", "namespace": "default"}


def test_temporal_environment_variables_apply_unless_loanflow_settings_are_given() -> None:
    env = {
        "TEMPORAL_ADDRESS": "loans.a1b2c.tmprl.cloud:7233",
        "TEMPORAL_NAMESPACE": "loans.a1b2c",
        "TEMPORAL_API_KEY": "cloud-key",
    }
    config = client_connect_config(Settings(), env=env)
    assert config["target_host"] == "loans.a1b2c.tmprl.cloud:7233"
    assert config["namespace"] == "loans.a1b2c"
    assert config["api_key"] == "cloud-key"
    assert config["tls"] is True

    explicit = Settings(temporal_address="temporal:7233", temporal_namespace="lending")
    config = client_connect_config(explicit, env=env)
    assert (config["target_host"], config["namespace"]) == ("temporal:7233", "lending")


def test_a_toml_profile_is_read_from_the_temporal_config_file(tmp_path: Path) -> None:
    toml = tmp_path / "temporal.toml"
    toml.write_text(
        '[profile.prod]\naddress = "prod.example:7233"\n'
        'namespace = "loans"\napi_key = "from-file"\n'
    )
    env = {"TEMPORAL_CONFIG_FILE": str(toml), "TEMPORAL_PROFILE": "prod"}
    config = client_connect_config(Settings(), env=env)
    assert config["target_host"] == "prod.example:7233"
    assert config["namespace"] == "loans"
    assert config["api_key"] == "from-file"


def test_mtls_config_is_built_from_the_configured_files(tmp_path: Path) -> None:
    cert, key = pem_pair(tmp_path, "worker")
    ca, _ = pem_pair(tmp_path, "ca")
    settings = Settings(
        temporal_address="temporal.internal:7233",
        temporal_tls_cert=cert,
        temporal_tls_key=key,
        temporal_tls_ca=ca,
        temporal_tls_server_name="temporal.internal",
    )
    tls = client_connect_config(settings, env={})["tls"]
    assert isinstance(tls, TLSConfig)
    assert tls.client_cert == cert.read_bytes()
    assert tls.client_private_key == key.read_bytes()
    assert tls.server_root_ca_cert == ca.read_bytes()
    assert tls.domain == "temporal.internal"


def test_api_key_with_tls_and_an_explicit_opt_out() -> None:
    config = client_connect_config(Settings(temporal_api_key="k-123"), env={})
    assert config["api_key"] == "k-123" and config["tls"] is True
    plain = client_connect_config(Settings(temporal_api_key="k", temporal_tls=False), env={})
    assert plain["tls"] is False


def test_half_an_mtls_pair_is_refused(tmp_path: Path) -> None:
    cert, _ = pem_pair(tmp_path, "worker")
    with pytest.raises(ValueError, match="go together"):
        Settings(temporal_tls_cert=cert)


async def test_the_client_connects_with_the_api_key_passed(local_env: WorkflowEnvironment) -> None:
    address = local_env.client.service_client.config.target_host
    settings = Settings(temporal_address=address, temporal_api_key="dev-key", temporal_tls=False)
    client = await connect(settings)
    assert client.service_client.config.api_key == "dev-key"
    assert client.namespace == "default"
    assert await client.service_client.check_health()


def test_worker_versioning_from_the_settings() -> None:
    assert deployment_config(Settings()) is None
    config = deployment_config(
        Settings(
            worker_deployment_name="loanflow",
            worker_build_id="2026.11.30-abc123",
            worker_versioning_behavior="pinned",
        )
    )
    assert config is not None and config.use_worker_versioning
    assert config.version.deployment_name == "loanflow"
    assert config.version.build_id == "2026.11.30-abc123"
    assert config.default_versioning_behavior == VersioningBehavior.PINNED
    with pytest.raises(ValueError, match="go together"):
        Settings(worker_deployment_name="loanflow")
