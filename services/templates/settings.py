"""Templates settings (env prefix `TEMPLATES_`)."""

from __future__ import annotations

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from shared.settings import (
    CloudApiSettings,
    HttpSettings,
    KafkaSettings,
    PostgresSettings,
    ServiceSettings,
)


class TemplatesCloudApi(CloudApiSettings):
    """Where templates are submitted: the sandbox by default, Graph API in production."""

    page_size: int = 100
    app_id: str = Field(
        default="300000000000001", description="The Meta app header samples are uploaded by."
    )


class TemplatesSettings(ServiceSettings):
    model_config = SettingsConfigDict(
        env_prefix="TEMPLATES_", env_nested_delimiter="__", frozen=True
    )

    http: HttpSettings = HttpSettings(port=8082)
    kafka: KafkaSettings = KafkaSettings()
    postgres: PostgresSettings = PostgresSettings()
    cloud_api: TemplatesCloudApi = TemplatesCloudApi()
    api_keys: list[SecretStr] = Field(
        default_factory=lambda: [SecretStr("wagate-dev-key")],
        description="Bearer keys the HTTP API accepts (a list, so a key can be rotated).",
    )
    group: str = Field(default="wagate-templates", description="Kafka consumer group.")
    templates_per_waba: int = Field(
        default=250,
        description="Meta's cap: 250, or 6000 for a verified portfolio with an approved name.",
    )
    seed_waba_id: str | None = Field(
        default=None,
        description="When set, the starter library is created and submitted for this WABA.",
    )
    repair_interval_s: float = Field(
        default=30.0, description="Seconds between re-publishing states lost after a commit."
    )
    sync_interval_s: float = Field(
        default=300.0, description="Seconds between syncs from the Cloud API; 0 turns it off."
    )
