"""Events ingest derives from Meta's webhooks: the raw journal, inbound messages, statuses."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import AwareDatetime, Field

from shared.events.common import MetaError
from shared.events.envelope import Event


class WebhookReceived(Event):
    """A verified webhook body exactly as Meta sent it, journaled before any parsing."""

    body: str
    received_at: AwareDatetime
    signature: str | None = None


class InboundMessageReceived(Event):
    """A customer sent the business a message (any type)."""

    waba_id: str | None = None
    phone_number_id: str
    display_phone_number: str | None = None
    wa_id: str = Field(description="The customer's WhatsApp id (digits).")
    contact_name: str | None = None
    message_id: str = Field(description="Meta's wamid of the inbound message.")
    timestamp: AwareDatetime = Field(description="When Meta says the customer sent it.")
    received_at: AwareDatetime | None = Field(
        default=None, description="When ingest received the webhook that carried it."
    )
    timestamp_in_future: bool = Field(
        default=False,
        description="`timestamp` is later than `received_at` plus ingest's allowed clock skew: "
        "a sending time no one can have had yet.",
    )
    message_type: str
    text: str | None = None
    context_message_id: str | None = None
    context: dict[str, Any] | None = Field(
        default=None, description="Meta's context: reply-to, forwarded flags, referred product."
    )
    referral: dict[str, Any] | None = None
    content: dict[str, Any] = Field(default_factory=dict, description="The type's own object.")
    errors: list[MetaError] = Field(default_factory=list)


StatusValue = Literal["sent", "delivered", "read", "played", "failed"] | str


class MessageStatusReported(Event):
    """Meta reported a new status of a message the business sent."""

    waba_id: str | None = None
    phone_number_id: str
    message_id: str = Field(description="The wamid the status is about.")
    status: StatusValue
    timestamp: datetime
    received_at: AwareDatetime | None = Field(
        default=None, description="When ingest received the webhook that carried it."
    )
    timestamp_in_future: bool = Field(
        default=False,
        description="`timestamp` is later than `received_at` plus ingest's allowed clock skew.",
    )
    recipient_id: str
    biz_opaque_callback_data: str | None = None
    conversation: dict[str, Any] | None = None
    pricing: dict[str, Any] | None = None
    errors: list[MetaError] = Field(default_factory=list)
