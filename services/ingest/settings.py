"""Ingest settings (env prefix `INGEST_`)."""

from __future__ import annotations

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared.settings import HttpSettings, KafkaSettings, LogSettings


class IngestSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="INGEST_", env_nested_delimiter="__", frozen=True)

    http: HttpSettings = HttpSettings(port=8081)
    kafka: KafkaSettings = KafkaSettings()
    log: LogSettings = LogSettings()
    app_secrets: list[SecretStr] = Field(
        default_factory=lambda: [SecretStr("sandbox-app-secret")],
        description="App secrets accepted for X-Hub-Signature-256 (several during rotation).",
    )
    verify_token: SecretStr = SecretStr("wagate-verify-token")
    max_body_bytes: int = Field(default=4 * 1024 * 1024, gt=0)
