"""Policy settings (env prefix `POLICY_`)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from services.policy.caps import Caps
from services.policy.consent import DEFAULT_START_WORDS, DEFAULT_STOP_WORDS
from services.policy.quiet import QuietHours
from services.policy.rules import PolicyConfig
from shared.sealing import SealingKeys
from shared.settings import HttpSettings, KafkaSettings, ServiceSettings
from shared.topics import INTENTS


class PolicySettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="POLICY_", env_nested_delimiter="__", frozen=True)
    required_secrets = ("sealing_keys",)

    http: HttpSettings = HttpSettings(port=8083)
    kafka: KafkaSettings = KafkaSettings()
    app_id: str = Field(default="wagate-policy", description="Consumer group and table prefix.")
    data_dir: Path = Path(".local/policy")
    window_safety_margin_s: int = Field(
        default=60, ge=0, description="Free-form sends stop this long before the window closes."
    )
    window_expiring_lead_s: int = Field(
        default=3600, ge=0, description="Announce `expiring` this long before a window closes."
    )
    window_scan_interval_s: float = Field(default=15.0, gt=0)
    session_timeout_s: float = Field(
        default=15.0, ge=6, description="How soon a dead worker's partitions move to another."
    )
    marketing_per_day: int = Field(
        default=1, ge=0, description="Marketing messages per customer per rolling day (0: no cap)."
    )
    marketing_per_week: int = Field(default=3, ge=0)
    waba_ids: dict[str, str] = Field(
        default_factory=dict, description="Business phone number id -> its WABA id."
    )
    default_waba_id: str = Field(
        default="100000000000001", description="The WABA of numbers not listed in waba_ids."
    )
    quiet_hours: str | None = Field(
        default=None,
        description="Local START-END (e.g. 21:00-08:00) when marketing waits, in the customer's "
        "time zone derived from their number; unset: no quiet hours.",
    )
    messaging_limit: int = Field(
        default=250,
        ge=0,
        description="The portfolio's messaging limit: unique customers "
        "reached by business-initiated messages per moving 24 h (0: unlimited).",
    )
    sealing_keys: SealingKeys = Field(
        default_factory=list,
        description="Fernet keys sealing sensitive parameters for dispatch (the first seals; "
        "dispatch needs the same list). No default: `python -m shared.sealing` makes one.",
    )
    stop_words: list[str] = Field(default_factory=lambda: sorted(DEFAULT_STOP_WORDS))
    start_words: list[str] = Field(default_factory=lambda: sorted(DEFAULT_START_WORDS))

    def policy_config(self) -> PolicyConfig:
        return PolicyConfig(
            window_safety_margin=timedelta(seconds=self.window_safety_margin_s),
            caps=Caps(per_day=self.marketing_per_day, per_week=self.marketing_per_week),
            waba_ids=dict(self.waba_ids),
            default_waba_id=self.default_waba_id,
            quiet_hours=QuietHours.parse(self.quiet_hours) if self.quiet_hours else None,
            messaging_limit=self.messaging_limit or None,
            partitions=INTENTS.partitions,
        )
