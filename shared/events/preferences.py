"""Customers' messaging preferences Meta reports (`user_preferences`, §4.7): marketing
stop and resume."""

from __future__ import annotations

from pydantic import AwareDatetime, Field

from shared.events.envelope import Event


class UserPreferenceChanged(Event):
    """A customer asked to stop or resume a category of messages (`value`: stop | resume)."""

    waba_id: str | None = None
    phone_number_id: str
    wa_id: str
    category: str = Field(description="e.g. marketing_messages.")
    value: str = Field(description="stop | resume (other future values are kept).")
    detail: str | None = None
    timestamp: AwareDatetime
