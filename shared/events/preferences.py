"""Customers' messaging preferences Meta reports (`user_preferences`, §4.7): marketing
stop and resume."""

from __future__ import annotations

from pydantic import AwareDatetime, Field, model_validator

from shared.events.envelope import Event
from shared.events.identity import Bsuid, CustomerIdentity, ParentBsuid, WaId


class UserPreferenceChanged(Event):
    """A customer asked to stop or resume a category of messages (`value`: stop | resume)."""

    waba_id: str | None = None
    phone_number_id: str
    wa_id: WaId | None = Field(default=None, description="The customer's phone, when given.")
    user_id: Bsuid | None = Field(default=None, description="The customer's BSUID.")
    parent_user_id: ParentBsuid | None = None
    category: str = Field(description="e.g. marketing_messages.")
    value: str = Field(description="stop | resume (other future values are kept).")
    detail: str | None = None
    timestamp: AwareDatetime

    @model_validator(mode="after")
    def _named(self) -> UserPreferenceChanged:
        self.identity  # noqa: B018 - raises when the preference names no customer
        return self

    @property
    def identity(self) -> CustomerIdentity:
        return CustomerIdentity(
            wa_id=self.wa_id, user_id=self.user_id, parent_user_id=self.parent_user_id
        )

    @property
    def customer(self) -> str:
        """The identifier the event is keyed by: the phone when given, else the BSUID."""
        return self.identity.primary
