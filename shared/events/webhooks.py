"""Events ingest derives from Meta's webhooks: the raw journal, inbound messages, statuses."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any, Literal

from pydantic import AwareDatetime, Field, model_validator

from shared.events.common import MetaError
from shared.events.envelope import Event
from shared.events.identity import (
    WA_ID_PATTERN,
    AnyBsuid,
    Bsuid,
    CustomerIdentity,
    NamesCustomer,
    ParentBsuid,
    Username,
    WaId,
)


class WebhookReceived(Event):
    """A verified webhook body exactly as Meta sent it, journaled before any parsing."""

    body: str
    received_at: AwareDatetime
    signature: str | None = None


class InboundMessageReceived(Event, NamesCustomer):
    """A customer sent the business a message (any type)."""

    waba_id: str | None = None
    phone_number_id: str
    display_phone_number: str | None = None
    wa_id: WaId | None = Field(
        default=None,
        description="The customer's phone (`from`, digits); absent when Meta withholds it.",
    )
    user_id: Bsuid | None = Field(default=None, description="Meta's `from_user_id` (BSUID).")
    parent_user_id: ParentBsuid | None = Field(
        default=None, description="Meta's `from_parent_user_id` (linked portfolios)."
    )
    username: Username | None = Field(default=None, description="`contacts[].profile.username`.")
    contact_wa_id: WaId | None = Field(
        default=None,
        description="`contacts[].wa_id` when it differs from `from` (Brazil, Mexico): the same "
        "customer under the WhatsApp id Meta reports.",
    )
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

    @model_validator(mode="after")
    def _names_someone(self) -> InboundMessageReceived:
        self._named()
        return self


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
    recipient_id: str | None = Field(
        default=None,
        description="The customer's phone; absent when sent to a BSUID and the phone may not "
        "be shared.",
    )
    recipient_user_id: Bsuid | None = Field(
        default=None, description="The customer's BSUID (`recipient_user_id`)."
    )
    parent_recipient_user_id: AnyBsuid | None = Field(
        default=None,
        description="The parent BSUID (Meta spells it `parent_recipient_user_id`, "
        "`recipient_parent_user_id` or `parent_user_id`).",
    )
    biz_opaque_callback_data: str | None = None
    conversation: dict[str, Any] | None = None
    pricing: dict[str, Any] | None = None
    errors: list[MetaError] = Field(default_factory=list)

    @model_validator(mode="after")
    def _addressed(self) -> MessageStatusReported:
        if not (self.recipient_id or self.recipient_user_id or self.parent_recipient_user_id):
            raise ValueError("a status needs `recipient_id` or `recipient_user_id`")
        return self

    @property
    def identity(self) -> CustomerIdentity | None:
        """The recipient's identifiers (None for a recipient that is not a phone, e.g. a group)."""
        phone = self.recipient_id
        wa_id = phone if phone is not None and re.fullmatch(WA_ID_PATTERN, phone) else None
        if wa_id is None and self.recipient_user_id is None and not self.parent_recipient_user_id:
            return None
        return CustomerIdentity(
            wa_id=wa_id,
            user_id=self.recipient_user_id,
            parent_user_id=self.parent_recipient_user_id,
        )

    @property
    def customer(self) -> str:
        """The recipient's identifier the event is keyed by: the phone when given."""
        return str(self.recipient_id or self.recipient_user_id or self.parent_recipient_user_id)
