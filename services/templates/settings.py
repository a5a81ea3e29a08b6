"""Templates settings (env prefix `TEMPLATES_`)."""

from __future__ import annotations

from pydantic_settings import BaseSettings, SettingsConfigDict

from shared.settings import HttpSettings, KafkaSettings, LogSettings, PostgresSettings


class TemplatesSettings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="TEMPLATES_", env_nested_delimiter="__", frozen=True
    )

    http: HttpSettings = HttpSettings(port=8082)
    kafka: KafkaSettings = KafkaSettings()
    postgres: PostgresSettings = PostgresSettings()
    log: LogSettings = LogSettings()
