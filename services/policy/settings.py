"""Policy settings (env prefix `POLICY_`)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared.settings import HttpSettings, KafkaSettings, LogSettings


class PolicySettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="POLICY_", env_nested_delimiter="__", frozen=True)

    http: HttpSettings = HttpSettings(port=8083)
    kafka: KafkaSettings = KafkaSettings()
    log: LogSettings = LogSettings()
    app_id: str = Field(default="wagate-policy", description="Consumer group and table prefix.")
    data_dir: Path = Path(".local/policy")
    window_safety_margin_s: int = Field(
        default=60, ge=0, description="Free-form sends stop this long before the window closes."
    )
