"""Dispatch settings (env prefix `DISPATCH_`, nested groups with `__`)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr
from pydantic_settings import SettingsConfigDict

from services.dispatch.media_settings import MediaSettings
from services.dispatch.retry import RetryPolicy
from shared.errors import StartupError
from shared.meta_errors import SENDER_HOLD
from shared.sealing import SealingKeys
from shared.settings import (
    CloudApiSettings,
    HttpSettings,
    KafkaSettings,
    PostgresSettings,
    ServiceSettings,
)


class DispatchCloudApi(CloudApiSettings):
    """The Cloud API dispatch sends to, with a token per number where numbers differ."""

    tokens: dict[str, SecretStr] = Field(
        default_factory=dict,
        description="Access token per business phone number id; others use access_token.",
    )
    max_connections: int = 200


class RateSettings(BaseModel):
    """Meta's limits (§6.1-6.2): throughput per number and the per-customer pair rate."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    default_mps: float = Field(default=80.0, gt=0, description="Meta's default tier.")
    numbers_mps: dict[str, float] = Field(
        default_factory=dict, description="Per phone number id, e.g. 1000 once upgraded."
    )
    burst_s: float = Field(
        default=0.02,
        ge=0,
        description="Bucket depth in seconds of rate (at least one message); any one second "
        "then carries at most rate + depth messages.",
    )
    headroom: float = Field(
        default=0.03,
        ge=0,
        lt=1,
        description="Share of the rate left unused, so network jitter that bunches requests "
        "never makes Meta count more than its limit in a second.",
    )
    pair_interval_s: float = Field(default=6.0, gt=0)
    pair_burst: float = Field(default=3.0, ge=1)
    max_in_flight: int = Field(default=64, ge=1, description="Concurrent sends per number.")
    lease_s: float = Field(
        default=0.05,
        gt=0,
        le=1,
        description="A replica leases this long of the rate at a time (at least 2 tokens) "
        "from the number's budget shared in PostgreSQL; tokens it has not spent this long "
        "after the time to spend them at the rate are lost.",
    )
    replicas: int = Field(
        default=1,
        ge=1,
        description="Dispatch replicas the deployment runs: while PostgreSQL cannot be "
        "reached, each sends at most the rate divided by this.",
    )
    spill_at: int = Field(
        default=5000,
        ge=1,
        description="Intents a number keeps in memory; beyond, they wait in the ledger only.",
    )

    def mps(self, phone_number_id: str) -> float:
        """The rate the number's bucket runs at: Meta's figure less the headroom."""
        return self.numbers_mps.get(phone_number_id, self.default_mps) * (1 - self.headroom)


class RetrySettings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    base_s: float = 0.5
    cap_s: float = 60.0
    max_attempts: int = 10
    maintenance_s: float = 60.0

    def policy(self) -> RetryPolicy:
        return RetryPolicy(self.base_s, self.cap_s, self.max_attempts, self.maintenance_s)


class SettleSettings(BaseModel):
    """How long an outcome may stay unknown, and how often the settler looks."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    unknown_wait_s: float = Field(
        default=600.0,
        description="After this long without a status an unknown send is reported "
        "`unknown` again with reason OUTCOME_UNCONFIRMED (never resent on its own; an intent "
        "with resend_when_unknown is sent again while not_after allows, else failed).",
    )
    interval_s: float = 5.0
    sending_grace_s: float = Field(
        default=10.0,
        description="Beyond the connect and read timeouts, how long a send may stay `sending` "
        "(its process died mid-request) before it counts as unknown.",
    )
    report_grace_s: float = 30.0
    requeue_s: float = Field(
        default=60.0, description="Intents queued this long are handed to their sender again."
    )
    early_status_keep_s: float = 86_400.0
    redecide_wait_s: float = Field(
        default=60.0,
        description="An intent handed back to policy with no fresh decision after this long is "
        "handed back again.",
    )


class MarketingRoute(BaseModel):
    """Meta's Marketing Messages API (`/marketing_messages`, rules §9.3) for MARKETING
    templates, once the business portfolio signed its terms (onboarding is Meta's, per
    portfolio). Every other message keeps `/messages`."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    enabled: bool = Field(
        default=True,
        description="false: this number keeps /messages (e.g. a WhatsApp Business app number).",
    )
    product_policy: Literal["CLOUD_API_FALLBACK", "STRICT"] = Field(
        default="CLOUD_API_FALLBACK",
        description="What Meta does when the portfolio is not onboarded after all: deliver "
        "through the Cloud API (CLOUD_API_FALLBACK) or refuse (STRICT).",
    )
    message_activity_sharing: bool | None = Field(
        default=None,
        description="Share the message's activity (reads...) with Meta; unset: the WABA's.",
    )


class PhoneNumber(BaseModel):
    """One business phone number this deployment sends from."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    waba_id: str | None = Field(default=None, description="The WhatsApp Business Account.")
    display_phone_number: str | None = Field(
        default=None,
        description="Its display number: Meta's phone-number webhooks (a throughput upgrade) "
        "name the number by it.",
    )
    mps: float | None = Field(default=None, gt=0, description="Its throughput tier (80, 1000).")
    portfolio_id: str | None = Field(
        default=None, description="Its business portfolio (onboarding to marketing_messages)."
    )
    marketing_messages: MarketingRoute | None = Field(
        default=None, description="Its own marketing route; unset: its portfolio's."
    )
    access_token: SecretStr | None = None
    access_token_file: Path | None = Field(
        default=None, description="A file holding its token (a mounted Secret), read at start."
    )


class DispatchSettings(ServiceSettings):
    model_config = SettingsConfigDict(
        env_prefix="DISPATCH_", env_nested_delimiter="__", frozen=True
    )
    required_secrets = ("sealing_keys",)

    http: HttpSettings = HttpSettings(port=8084)
    kafka: KafkaSettings = KafkaSettings()
    postgres: PostgresSettings = PostgresSettings()
    cloud_api: DispatchCloudApi = DispatchCloudApi()
    rates: RateSettings = RateSettings()
    retry: RetrySettings = RetrySettings()
    settle: SettleSettings = SettleSettings()
    media: MediaSettings = MediaSettings()
    circuit_cooldown_s: float = 30.0
    circuit_max_cooldown_s: float = 600.0
    sender_hold_s: float = Field(
        default=SENDER_HOLD.total_seconds(),
        gt=0,
        description="How long Meta's stop of a sender (131048, 131064, 368) holds its numbers "
        "before one probe send; an account update from Meta releases them sooner.",
    )
    backlog_high: int = Field(default=2000, description="Pause a partition at this backlog.")
    backlog_low: int = Field(default=1000, description="Resume it at this backlog.")
    group: str = Field(default="wagate-dispatch", description="Kafka consumer group.")
    redecisions_max: int = Field(
        default=3,
        ge=0,
        description="How often one intent may be handed back to policy for a fresh decision "
        "(its approval lapsed, or Meta refused the window); then it ends with a reason.",
    )
    sealing_keys: SealingKeys = Field(
        default_factory=list,
        description="Fernet keys opening the sensitive parameters policy sealed (the same list "
        "as policy's sealing_keys; any of them opens). No default.",
    )
    numbers: dict[str, PhoneNumber] = Field(
        default_factory=dict,
        description="The registry of business phone numbers (by phone number id): account, "
        "token and throughput of each; numbers not listed use the defaults.",
    )

    marketing_messages: dict[str, MarketingRoute] = Field(
        default_factory=dict,
        description="Business portfolios onboarded to Meta's Marketing Messages API (by "
        "portfolio id): their numbers send MARKETING templates to /marketing_messages.",
    )
    default_portfolio_id: str | None = Field(
        default=None, description="The portfolio of numbers whose registry entry names none."
    )

    def marketing_route(self, phone_number_id: str) -> MarketingRoute | None:
        """Where the number's MARKETING templates go: its own route, else its portfolio's;
        None (or a route not enabled): /messages."""
        number = self.numbers.get(phone_number_id)
        own = number.marketing_messages if number is not None else None
        portfolio = (number.portfolio_id if number else None) or self.default_portfolio_id
        found = own or (self.marketing_messages.get(portfolio) if portfolio else None)
        return found if found is not None and found.enabled else None

    def with_registry(self) -> DispatchSettings:
        """The settings with each registered number's token and rate in place (token files
        read now); raises StartupError naming a token file that cannot be read."""
        tokens = dict(self.cloud_api.tokens)
        mps = dict(self.rates.numbers_mps)
        for number_id, number in self.numbers.items():
            if number.mps is not None:
                mps[number_id] = number.mps
            token = number.access_token or _read_token(number_id, number.access_token_file)
            if token is not None:
                tokens[number_id] = token
        return self.model_copy(
            update={
                "cloud_api": self.cloud_api.model_copy(update={"tokens": tokens}),
                "rates": self.rates.model_copy(update={"numbers_mps": mps}),
            }
        )

    def registry_view(self) -> dict[str, dict[str, object]]:
        """What `GET /numbers` shows: never a token, only whether one is set."""
        known = {*self.numbers, *self.rates.numbers_mps, *self.cloud_api.tokens}
        return {
            number_id: {
                "waba_id": self.numbers[number_id].waba_id if number_id in self.numbers else None,
                "mps": self.rates.numbers_mps.get(number_id, self.rates.default_mps),
                "own_token": number_id in self.cloud_api.tokens,
            }
            for number_id in sorted(known)
        }


def _read_token(number_id: str, path: Path | None) -> SecretStr | None:
    if path is None:
        return None
    try:
        token = path.read_text().strip()
    except OSError as exc:
        raise StartupError(f"the token file of number {number_id} cannot be read: {exc}") from exc
    if not token:
        raise StartupError(f"the token file of number {number_id} ({path}) is empty")
    return SecretStr(token)
