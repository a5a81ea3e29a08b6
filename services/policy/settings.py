"""Policy settings (env prefix `POLICY_`)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from services.policy import consent, pricing
from services.policy.caps import Caps
from services.policy.consent import (
    DEFAULT_OPT_OUT_REPLIES,
    DEFAULT_START_WORDS,
    DEFAULT_STOP_WORDS,
    ConsentRules,
)
from services.policy.quiet import QuietHours
from services.policy.rules import PolicyConfig
from services.policy.threads import ThreadRules
from shared.meta_errors import MARKETING_HOLD
from shared.sealing import SealingKeys
from shared.settings import HttpSettings, KafkaSettings, ServiceSettings
from shared.topics import INTENTS

TemplateCategory = Literal["marketing", "utility", "authentication"]
OPT_IN_REQUIRED: tuple[TemplateCategory, ...] = ("marketing", "utility", "authentication")


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
    approval_lifetime_s: int = Field(
        default=900,
        ge=1,
        description="How long a template approval holds; dispatch hands an intent not sent by "
        "then back to policy for a fresh decision.",
    )
    clock_skew_s: int = Field(
        default=120,
        ge=0,
        description="How far a customer message's or consent fact's time may lie after its "
        "receipt; a later one counts as the receipt (logged and counted).",
    )
    window_expiring_lead_s: int = Field(
        default=3600, ge=0, description="Announce `expiring` this long before a window closes."
    )
    window_scan_interval_s: float = Field(default=15.0, gt=0)
    stall_s: float = Field(
        default=10.0,
        gt=0,
        description="An input partition with records past its committed offset, and that "
        "offset unmoved this long, is read again from the committed offset.",
    )
    fetch_gather_ms: int = Field(
        default=25,
        ge=0,
        le=1000,
        description="How long the broker may hold a fetch of the worker's partitions to gather "
        "more records (0: answer as soon as one is there). Every fetch costs the worker for "
        "each partition it reads, about a hundred; at a steady rate fewer, fuller fetches "
        "cost it far less, for at most this much more time per record.",
    )
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
    consent_scope: Literal["waba", "portfolio"] = Field(
        default="waba",
        description="Consent belongs to the business: its WABA, or its business portfolio "
        "(every WABA of the portfolio shares it). Windows stay per business number.",
    )
    portfolio_ids: dict[str, str] = Field(
        default_factory=dict, description="WABA id -> its business portfolio id."
    )
    default_portfolio_id: str = Field(
        default="200000000000001", description="The portfolio of WABAs not in portfolio_ids."
    )
    opt_in_required: list[TemplateCategory] = Field(
        default_factory=lambda: list(OPT_IN_REQUIRED),
        description="Template categories sent only to customers with a recorded opt-in.",
    )
    quiet_hours: str | None = Field(
        default=None,
        description="Local START-END (e.g. 21:00-08:00) when marketing waits, in the customer's "
        "time zone derived from their number; unset: no quiet hours.",
    )
    messaging_limit: int = Field(
        default=250,
        ge=0,
        description="A portfolio's messaging limit until Meta reports one (a "
        "business_capability_update or phone_number_quality_update wins): unique customers "
        "reached by business-initiated messages per moving 24 h (0: unlimited).",
    )
    pricing_table: Path | None = Field(
        default=None,
        description="A JSON table of dated pricing rules for the expected charge on each "
        "decision (unset: the one shipped, services/policy/pricing.json).",
    )
    pricing_reported: bool = Field(
        default=True,
        description="Whether the table's periods known only from third parties' reports "
        "(basis `reported`, e.g. the 2026-10-01 service charges) price decisions.",
    )
    messaging_limits: dict[str, int] = Field(
        default_factory=dict,
        description="Portfolio id -> its messaging limit until Meta reports one (0: unlimited); "
        "portfolios not listed start at messaging_limit.",
    )
    us_marketing_pause: bool = Field(
        default=True,
        description="Refuse marketing templates to US customers (+1 with a US area code, or a "
        "`US.` BSUID) before sending: Meta has delivered none since 2025-04-01 (131049).",
    )
    marketing_hold_s: int = Field(
        default=int(MARKETING_HOLD.total_seconds()),
        ge=1,
        description="How long Meta's 131049 holds a customer's marketing before it is tried "
        "again (Meta: no resend within 24 h).",
    )
    sealing_keys: SealingKeys = Field(
        default_factory=list,
        description="Fernet keys sealing sensitive parameters for dispatch (the first seals; "
        "dispatch needs the same list). No default: `python -m shared.sealing` makes one.",
    )
    stop_words: list[str] = Field(
        default_factory=lambda: sorted(DEFAULT_STOP_WORDS),
        description="A customer message that is one of these stops every business-initiated "
        "message.",
    )
    start_words: list[str] = Field(
        default_factory=lambda: sorted(DEFAULT_START_WORDS),
        description="A customer message that is one of these lifts the stops the customer made "
        "in the chat (it never opts in).",
    )
    opt_out_replies: dict[str, str] = Field(
        default_factory=lambda: dict(DEFAULT_OPT_OUT_REPLIES),
        description="Quick-reply payloads and labels (or the same words typed) that stop one "
        "category: payload or label -> marketing | utility | authentication | all.",
    )
    standby_opens_window: bool = Field(
        default=True,
        description="A customer message on `standby` (another handler, Meta's agent, held the "
        "thread) opens or refreshes the window like any message; Meta does not say (§9.7).",
    )
    thread_idle_after_s: int = Field(
        default=24 * 3600,
        gt=0,
        description="A thread another handler holds stops refusing intents this long after "
        "the last signal that it holds it (reported: idle after 24 h without a user message).",
    )
    thread_hold_covers_templates: bool = Field(
        default=True,
        description="A template to a thread another handler holds also needs `take_control` "
        "(Meta does not say whether a template send takes the thread over).",
    )

    def policy_config(self) -> PolicyConfig:
        return PolicyConfig(
            window_safety_margin=timedelta(seconds=self.window_safety_margin_s),
            caps=Caps(per_day=self.marketing_per_day, per_week=self.marketing_per_week),
            waba_ids=dict(self.waba_ids),
            default_waba_id=self.default_waba_id,
            quiet_hours=QuietHours.parse(self.quiet_hours) if self.quiet_hours else None,
            messaging_limit=self.messaging_limit or None,
            partitions=INTENTS.partitions,
            approval_lifetime=timedelta(seconds=self.approval_lifetime_s),
            consent=self.consent_rules(),
            clock_skew=timedelta(seconds=self.clock_skew_s),
            pricing=pricing.load(self.pricing_table, reported=self.pricing_reported),
            threads=ThreadRules(
                idle_after=timedelta(seconds=self.thread_idle_after_s),
                templates_too=self.thread_hold_covers_templates,
            ),
            standby_opens_window=self.standby_opens_window,
            us_marketing_pause=self.us_marketing_pause,
            marketing_hold=timedelta(seconds=self.marketing_hold_s),
            messaging_limits={k: v or None for k, v in self.messaging_limits.items()},
        )

    def consent_rules(self) -> ConsentRules:
        words = consent.normalize_word
        return ConsentRules(
            stop_words=frozenset(words(w) for w in self.stop_words),
            start_words=frozenset(words(w) for w in self.start_words),
            opt_out_replies={words(k): v for k, v in self.opt_out_replies.items()},
            opt_in_required=frozenset(self.opt_in_required),
            scope=self.consent_scope,
            portfolio_ids=dict(self.portfolio_ids),
            default_portfolio_id=self.default_portfolio_id,
        )
