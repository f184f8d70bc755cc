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
    vision_pool_size: int = 0
    face_match_threshold: float = 0.6
    vendor_timeout_seconds: float = 10.0
    lender_name: str = "示例小额贷款有限公司"
    policy_version: str = Field(
        default="2026.11-std",
        pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$",
        description="the active decision policy: a folder of policies_dir",
    )
    policies_dir: Path = PROJECT_ROOT / "policies"

    @model_validator(mode="after")
    def _refuse_unsafe_production(self) -> Settings:
        if self.environment == "production":
            unsafe = [
                name
                for name, value in (
                    ("payload_encryption_key", self.payload_encryption_key == DEV_ENCRYPTION_KEY),
                    ("token_secret", self.token_secret == DEV_SECRET),
                    ("payment_callback_secret", self.payment_callback_secret == DEV_SECRET),
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
