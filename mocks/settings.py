"""Settings of the simulators, read from their own environment.

The callback secrets (payment gateway, bureau alerts, device-risk events) share their variables
and development defaults with `config/settings.py`, and the lender's URL is the API's, so the
API verifies what the simulators sign without extra wiring.
"""

from __future__ import annotations

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

DEV_CALLBACK_SECRET = "loanflow-dev-secret"


class MockSettings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="LOANFLOW_MOCKS_", extra="ignore", populate_by_name=True
    )

    payment_callback_secret: str = Field(
        default=DEV_CALLBACK_SECRET,
        validation_alias=AliasChoices(
            "LOANFLOW_PAYMENT_CALLBACK_SECRET", "LOANFLOW_MOCKS_PAYMENT_CALLBACK_SECRET"
        ),
    )
    bureau_callback_secret: str = Field(
        default=DEV_CALLBACK_SECRET,
        validation_alias=AliasChoices(
            "LOANFLOW_BUREAU_CALLBACK_SECRET", "LOANFLOW_MOCKS_BUREAU_CALLBACK_SECRET"
        ),
    )
    device_risk_callback_secret: str = Field(
        default=DEV_CALLBACK_SECRET,
        validation_alias=AliasChoices(
            "LOANFLOW_DEVICE_RISK_CALLBACK_SECRET", "LOANFLOW_MOCKS_DEVICE_RISK_CALLBACK_SECRET"
        ),
    )
    lender_url: str = Field(
        default="http://127.0.0.1:8000",
        validation_alias=AliasChoices("LOANFLOW_API_URL", "LOANFLOW_MOCKS_LENDER_URL"),
        description="where the bureau and the device-risk vendor push their alerts",
    )
    settle_delay_seconds: float = Field(default=0.3, ge=0)
    returned_delay_seconds: float = Field(default=0.5, ge=0)
    callback_max_tries: int = Field(default=4, ge=1)
    callback_backoff_seconds: float = Field(default=0.2, ge=0)
    callback_timeout_seconds: float = Field(default=5.0, gt=0)
