"""Sandbox settings (env prefix `SANDBOX_`, nested groups with `__`)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from services.sandbox.faults import Faults
from shared.settings import HttpSettings, ServiceSettings


class SandboxSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="SANDBOX_", env_nested_delimiter="__", frozen=True)

    http: HttpSettings = HttpSettings(port=8090)
    access_tokens: list[SecretStr] = Field(default_factory=lambda: [SecretStr("sandbox-token")])
    app_secret: SecretStr = SecretStr("sandbox-app-secret")
    webhook_url: str = Field(
        default="http://127.0.0.1:8081/webhook",
        description="Where webhooks go; empty: keep them only (GET /_sandbox/webhooks).",
    )
    waba_id: str = "100000000000001"
    app_id: str = Field(default="300000000000001", description="The app resumable uploads use.")
    portfolio_id: str = Field(
        default="200000000000001",
        description="The business portfolio of the WABA and of every number not given another.",
    )
    display_phone_number: str = "15550001111"
    status_delay_s: float = Field(default=0.05, ge=0, description="Pause between status webhooks.")
    read_after_s: float | None = Field(
        default=None, ge=0, description="Customers read each message after this; unset: never."
    )
    webhook_retry_max_s: float = Field(default=30.0, gt=0)
    webhook_posters: int = Field(
        default=1,
        ge=1,
        description="Webhooks posted at once, as Meta posts them concurrently (so they may "
        "arrive out of order); 1: one at a time, in order.",
    )
    state_file: Path | None = Field(
        default=None,
        description="Where the world (templates, customers...) is kept across restarts; "
        "unset: in memory only.",
    )
    state_save_s: float = Field(default=2.0, gt=0, description="How often the world is saved.")
    review_delay_s: float = Field(default=1.0, ge=0, description="PENDING until the review.")
    pause_durations_s: list[float] = Field(
        default_factory=lambda: [3 * 3600.0, 6 * 3600.0],
        description="How long the first and second pause of a template last.",
    )
    held_s: float = Field(
        default=2.0, ge=0, description="How long a paced template's message is held."
    )
    marketing_messages_onboarded: bool = Field(
        default=True,
        description="Whether the portfolio is onboarded to the Marketing Messages API: false, "
        "/marketing_messages falls back to the Cloud API (or refuses, STRICT).",
    )
    service_charged: bool = Field(
        default=False,
        description="Price statuses by the 2026-10-01 model as reported: service messages and "
        "utility templates inside the window charged (`type` regular).",
    )
    throughput_mps: float = Field(default=80.0, gt=0, description="Per business number.")
    pair_burst: float = Field(default=45.0, ge=1, description="Sends to one customer at once.")
    pair_interval_s: float = Field(default=6.0, gt=0, description="One more send per interval.")
    seed: int | None = Field(default=None, description="Makes ids and faults repeat.")
    faults: Faults = Faults()
