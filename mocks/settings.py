"""Settings of the simulators, read from their own environment.

The callback secret shares its variable and development default with `config/settings.py`, so
the API verifies what the gateway simulator signs without extra wiring.
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
    settle_delay_seconds: float = Field(default=0.3, ge=0)
    returned_delay_seconds: float = Field(default=0.5, ge=0)
    callback_max_tries: int = Field(default=4, ge=1)
    callback_backoff_seconds: float = Field(default=0.2, ge=0)
    callback_timeout_seconds: float = Field(default=5.0, gt=0)
