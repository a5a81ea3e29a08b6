"""Account-level facts from Meta's webhooks: account and phone-number updates, and errors Meta
reports for a whole business number rather than one message (`value.errors[]`, §4.6)."""

from __future__ import annotations

from typing import Any

from pydantic import AwareDatetime, Field

from shared.events.common import MetaError
from shared.events.envelope import Event


class AccountUpdateReported(Event):
    """An update about a WABA or one of its phone numbers (`account_update`, `account_alerts`,
    `account_review_update`, `business_capability_update`, `phone_number_quality_update`,
    `phone_number_name_update`, `security`, ...), with Meta's value kept whole in `details`."""

    field: str = Field(description="Meta's `changes[].field`.")
    waba_id: str
    event: str | None = Field(default=None, description="`value.event` when Meta gives one.")
    display_phone_number: str | None = None
    reported_at: AwareDatetime | None = Field(default=None, description="`entry[].time`.")
    details: dict[str, Any] = Field(default_factory=dict)


class WebhookErrorReported(Event):
    """Meta reported an error for a business number, not tied to one message (e.g. 130429)."""

    waba_id: str | None = None
    phone_number_id: str | None = None
    error: MetaError
    reported_at: AwareDatetime | None = None
