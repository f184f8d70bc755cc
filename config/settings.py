"""One Settings object, read from the environment (prefix LOANFLOW_, plus DATABASE_URL)."""

from __future__ import annotations

import base64
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEV_ENCRYPTION_KEY = base64.b64encode(b"loanflow-dev-key-not-for-prod!!!").decode()
DEV_SECRET = "loanflow-dev-secret"
DEV_BLOB_KEY = base64.b64encode(b"loanflow-dev-blob-key-not-prod!!").decode()
PROJECT_ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="LOANFLOW_", extra="ignore")

    environment: Literal["dev", "test", "production"] = "dev"
    data_dir: Path = PROJECT_ROOT / ".data"
    temporal_address: str = "127.0.0.1:7233"
    temporal_namespace: str = "default"
    # A secured cluster or Temporal Cloud: these, or Temporal's own environment configuration
    # (TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_API_KEY, TEMPORAL_TLS_*, a TOML profile
    # in TEMPORAL_CONFIG_FILE / TEMPORAL_PROFILE), which LOANFLOW_TEMPORAL_* values override.
    temporal_api_key: str = ""
    temporal_tls: bool | None = Field(default=None, description="None: on with a cert or key")
    temporal_tls_cert: Path | None = Field(default=None, description="mTLS client certificate")
    temporal_tls_key: Path | None = Field(default=None, description="mTLS client private key")
    temporal_tls_ca: Path | None = Field(default=None, description="server CA, if not public")
    temporal_tls_server_name: str = ""
    worker_deployment_name: str = Field(
        default="", description="worker deployment versioning; empty = unversioned workers"
    )
    worker_build_id: str = ""
    worker_versioning_behavior: Literal["pinned", "auto_upgrade"] = "auto_upgrade"
    database_url: str = Field(
        default="",
        validation_alias=AliasChoices("DATABASE_URL", "LOANFLOW_DATABASE_URL"),
        description="SQLAlchemy URL; empty means a SQLite file under data_dir",
    )
    blob_dir: Path | None = None
    blob_encryption_keys: dict[str, str] = Field(
        default_factory=lambda: {"dev-1": DEV_BLOB_KEY},
        description="key id -> 32-byte base64 key wrapping the blobs' data keys (old ids decrypt)",
    )
    blob_key_id: str = "dev-1"
    blob_url: str = Field(
        default="",
        pattern=r"^((file|s3)://.+)?$",
        description="file:///path or s3://bucket/prefix; empty means the blob_dir folder",
    )
    s3_endpoint_url: str = ""
    s3_region: str = ""
    s3_access_key_id: str = ""
    s3_secret_access_key: str = ""
    s3_server_side_encryption: Literal["", "AES256", "aws:kms"] = ""
    mocks_url: str = "http://127.0.0.1:8100"
    api_url: str = "http://127.0.0.1:8000"
    payload_encryption_key: str = DEV_ENCRYPTION_KEY
    payload_key_id: str = "dev-1"
    payload_previous_keys: dict[str, str] = Field(
        default_factory=dict,
        description="key id -> base64 key of retired payload keys: they still decrypt",
    )
    token_secret: str = DEV_SECRET
    token_key_id: str = Field(default="dev-1", pattern=r"^[A-Za-z0-9._-]{1,32}$")
    previous_token_secrets: dict[str, str] = Field(
        default_factory=dict,
        description="key id -> secret of retired signing keys: their tokens still verify",
    )
    payment_callback_secret: str = DEV_SECRET
    bureau_callback_secret: str = Field(
        default=DEV_SECRET, description="HMAC key of the bureau's post-loan monitoring alerts"
    )
    device_risk_callback_secret: str = Field(
        default=DEV_SECRET, description="HMAC key of the device-risk vendor's events"
    )
    applicant_token_minutes: int = Field(default=30, ge=1, le=24 * 60)
    applicant_refresh_days: int = Field(
        default=8, ge=1, le=60, description="how long the app can refresh without a new start"
    )
    applicant_read_days_after_end: int = Field(
        default=30, ge=0, le=3650, description="read-only access (the contract) after the end"
    )
    retention_days_ended: int = Field(
        default=90, ge=0, description="identity documents of applications that did not disburse"
    )
    retention_days_disbursed: int = Field(
        default=5 * 365, ge=0, description="identity documents of loans (due-diligence records)"
    )
    redis_url: str = Field(
        default="", description="rate limits and callback nonces; empty: in-memory, one process"
    )
    redis_prefix: str = "loanflow:"
    rate_limit_overrides: dict[str, int] = Field(
        default_factory=dict, description="rule name -> limit (api.limits), e.g. for load tests"
    )
    ops_session_minutes: int = Field(default=60, ge=1, le=24 * 60)
    ops_dev_seed: bool | None = Field(
        default=None,
        description="create the development ops users at start; default: outside production",
    )
    codec_requires_sign_in: bool = Field(
        default=True,
        description="False only for local demos: the codec decodes for anyone (logged)",
    )
    codec_cors_origins: list[str] = ["http://127.0.0.1:8233", "http://localhost:8233"]
    max_image_bytes: int = 8 * 1024 * 1024
    max_video_bytes: int = 32 * 1024 * 1024
    max_image_pixels: int = 40_000_000
    vision_pool_size: int = Field(
        default=0, ge=0, description="vision pool processes; 0 = the CPUs this process may use"
    )
    log_level: str = "INFO"
    listen_host: str = Field(default="127.0.0.1", description="bind address of worker probes")
    worker_health_port: int = Field(default=0, ge=0, le=65535, description="0 = no probes")
    worker_metrics_port: int = Field(default=0, ge=0, le=65535, description="0 = no metrics")
    # Tuning of the main worker (the SDK's defaults when unset): slots for workflow tasks,
    # activities and local activities, pollers per task type, and the sticky cache of workflows
    # kept in memory between their tasks (a cache miss replays the history).
    worker_workflow_slots: int | None = Field(default=None, ge=1)
    worker_activity_slots: int | None = Field(default=None, ge=1)
    worker_local_activity_slots: int | None = Field(default=None, ge=1)
    worker_pollers: int | None = Field(default=None, ge=1)
    worker_cached_workflows: int | None = Field(default=None, ge=0)
    landmark_backend: Literal["dlib", "facemesh"] = Field(
        default="dlib",
        description="face landmarks for liveness: dlib (iBUG 300-W, non-commercial) or "
        "facemesh (MediaPipe Face Mesh, Apache-2.0); see README, Licences",
    )
    vendor_timeout_seconds: float = 10.0
    lender_name: str = "示例小额贷款有限公司"
    policy_version: str = Field(
        default="2026.11-std",
        pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$",
        description="the active decision policy: a folder of policies_dir",
    )
    policies_dir: Path = PROJECT_ROOT / "policies"
    seal_pkcs12: Path | None = Field(
        default=None, description="the platform seal: an encrypted PKCS#12 (key + certificate)"
    )
    seal_pkcs12_passphrase: str = ""
    seal_pkcs11_module: Path | None = Field(
        default=None, description="PKCS#11 library holding the seal key (an HSM, SoftHSM)"
    )
    seal_pkcs11_token: str = ""
    seal_pkcs11_key_label: str = "loanflow-seal"
    seal_pkcs11_pin: str = ""
    tsa_url: str = Field(default="", description="RFC 3161 time-stamp authority for the seal")
    tsa_trust_cert: Path | None = Field(
        default=None, description="PEM root the TSA's tokens chain to (checked after sealing)"
    )

    @model_validator(mode="after")
    def _refuse_unsafe_production(self) -> Settings:
        if self.environment == "production":
            unsafe = [
                name
                for name, value in (
                    ("payload_encryption_key", self.payload_encryption_key == DEV_ENCRYPTION_KEY),
                    ("token_secret", self.token_secret == DEV_SECRET),
                    ("payment_callback_secret", self.payment_callback_secret == DEV_SECRET),
                    ("bureau_callback_secret", self.bureau_callback_secret == DEV_SECRET),
                    ("device_risk_callback_secret", self.device_risk_callback_secret == DEV_SECRET),
                    ("ops_dev_seed", self.ops_dev_seed is True),
                    ("blob_encryption_keys", DEV_BLOB_KEY in self.blob_encryption_keys.values()),
                    ("codec_requires_sign_in", not self.codec_requires_sign_in),
                )
                if value
            ]
            if unsafe:
                raise ValueError(
                    f"development defaults or opt-outs refused in production: {unsafe}"
                )
        if bool(self.temporal_tls_cert) != bool(self.temporal_tls_key):
            raise ValueError("temporal_tls_cert and temporal_tls_key go together (mTLS)")
        if self.tsa_url and not self.tsa_trust_cert:
            raise ValueError("tsa_url needs tsa_trust_cert: a time-stamp nobody can check")
        if bool(self.worker_deployment_name) != bool(self.worker_build_id):
            raise ValueError("worker_deployment_name and worker_build_id go together")
        key = base64.b64decode(self.payload_encryption_key)
        if len(key) != 32:
            raise ValueError("payload_encryption_key must be 32 bytes, base64-encoded")
        if self.blob_key_id not in self.blob_encryption_keys:
            raise ValueError("blob_key_id must name one of blob_encryption_keys")
        if any(len(k) != 32 for k in self.blob_keys.values()):
            raise ValueError("every blob encryption key must be 32 bytes, base64-encoded")
        return self

    @property
    def seed_dev_users(self) -> bool:
        return self.environment != "production" if self.ops_dev_seed is None else self.ops_dev_seed

    @property
    def blob_keys(self) -> dict[str, bytes]:
        return {kid: base64.b64decode(key) for kid, key in self.blob_encryption_keys.items()}

    @property
    def token_keys(self) -> dict[str, str]:
        """Every key id a token may name: the current signing key and the retired ones."""
        return {**self.previous_token_secrets, self.token_key_id: self.token_secret}

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'loanflow.db'}"

    @property
    def resolved_policy_path(self) -> Path:
        return self.policies_dir / self.policy_version

    @property
    def resolved_blob_dir(self) -> Path:
        return self.blob_dir or self.data_dir / "blobs"


@lru_cache
def get_settings() -> Settings:
    return Settings()
