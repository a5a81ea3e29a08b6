"""Policy's verdict on each outbound intent, with its reasons."""

from __future__ import annotations

from typing import Literal

from pydantic import AwareDatetime, Field

from shared.events.envelope import Event, Model
from shared.events.intents import OutboundIntentSubmitted

Outcome = Literal["approved", "rejected", "deferred"]


class WindowSnapshot(Model):
    """The customer service window as policy saw it when deciding."""

    last_customer_message_at: AwareDatetime | None = None
    expires_at: AwareDatetime | None = None
    is_open: bool = False


class Address(Model):
    """The identifier dispatch must address the customer by: `to` (a phone) or `recipient`
    (a BSUID), as policy resolved it."""

    field: Literal["to", "recipient"]
    value: str = Field(min_length=1)


class PolicyDecisionMade(Event):
    """Policy approved, rejected or deferred an intent; dispatch acts only on approvals."""

    intent: OutboundIntentSubmitted
    outcome: Outcome
    reasons: list[str] = Field(default_factory=list)
    detail: str = ""
    window: WindowSnapshot | None = None
    pricing: str | None = None
    valid_until: AwareDatetime | None = None
    sealed: str | None = Field(
        default=None,
        description="Sensitive parameter values, encrypted for dispatch; the intent itself "
        "shows them as [redacted].",
    )
    resubmit: str | None = Field(
        default=None,
        description="On approvals: the intent exactly as submitted, sealed, so dispatch can "
        "hand it back to policy for a fresh decision when the approval no longer holds.",
    )
    address: Address | None = Field(
        default=None,
        description="On approvals: whom dispatch addresses (a phone in `to` or a BSUID in "
        "`recipient`); unset: the intent's own `to` or `recipient`.",
    )
    customer_key: str | None = Field(
        default=None,
        description="The customer's canonical key within the business portfolio, the one "
        "windows, consent and caps were read under.",
    )
    policy_version: str = Field(default="1", description="The rule set that decided.")
