"""Dispatch settings (env prefix `DISPATCH_`)."""

from __future__ import annotations

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared.settings import HttpSettings, KafkaSettings, LogSettings, PostgresSettings


class CloudApiSettings(BaseSettings):
    model_config = SettingsConfigDict(frozen=True)

    base_url: str = "http://127.0.0.1:8090"
    version: str = "v21.0"
    access_token: SecretStr = SecretStr("sandbox-token")
    connect_timeout_s: float = 5.0
    read_timeout_s: float = 20.0


class DispatchSettings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="DISPATCH_", env_nested_delimiter="__", frozen=True
    )

    http: HttpSettings = HttpSettings(port=8084)
    kafka: KafkaSettings = KafkaSettings()
    postgres: PostgresSettings = PostgresSettings()
    log: LogSettings = LogSettings()
    cloud_api: CloudApiSettings = CloudApiSettings()
    group: str = Field(default="wagate-dispatch", description="Kafka consumer group.")
