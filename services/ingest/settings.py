"""Ingest settings (env prefix `INGEST_`)."""

from __future__ import annotations

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import SettingsConfigDict

from shared.settings import HttpSettings, KafkaSettings, PostgresSettings, ServiceSettings


class IngestSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="INGEST_", env_nested_delimiter="__", frozen=True)

    http: HttpSettings = HttpSettings(port=8081)
    kafka: KafkaSettings = KafkaSettings()
    postgres: PostgresSettings = PostgresSettings()
    app_secrets: list[SecretStr] = Field(
        default_factory=lambda: [SecretStr("sandbox-app-secret")],
        description="App secrets accepted for X-Hub-Signature-256 (several during rotation).",
    )
    verify_token: SecretStr = SecretStr("wagate-verify-token")
    max_body_bytes: int = Field(default=4 * 1024 * 1024, gt=0)
    max_events_per_webhook: int = Field(
        default=5000, gt=0, description="Past this, a body is kept only in the journal."
    )
    future_skew_s: float = Field(
        default=300.0,
        ge=0,
        description="A message or status timestamp later than the webhook's receive time plus "
        "this is flagged `timestamp_in_future` (clocks drift; no one writes from the future).",
    )
    publish_timeout_s: float = Field(
        default=10.0, gt=0, description="Longest wait for Kafka before answering Meta 503."
    )
    dedupe_retention_s: float = Field(
        default=8 * 24 * 3600.0,
        gt=0,
        description="How long event ids are remembered (Meta retries for up to 7 days).",
    )
    dedupe_lease_s: float = Field(
        default=60.0, gt=0, description="After this, a claim whose request died is taken over."
    )
    dedupe_expiry_interval_s: float = Field(default=3600.0, gt=0)

    @model_validator(mode="after")
    def _lease_outlives_a_publish(self) -> IngestSettings:
        # A claim must not be taken over while its request may still be publishing.
        if self.dedupe_lease_s <= self.publish_timeout_s:
            raise ValueError("dedupe_lease_s must be longer than publish_timeout_s")
        return self
