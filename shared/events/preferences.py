"""Customers' messaging preferences Meta reports (`user_preferences`, §4.7): marketing
stop and resume."""

from __future__ import annotations

from pydantic import AwareDatetime, Field, model_validator

from shared.events.envelope import Event
from shared.events.identity import Bsuid, NamesCustomer, ParentBsuid, WaId


class UserPreferenceChanged(Event, NamesCustomer):
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
    def _names_someone(self) -> UserPreferenceChanged:
        self._named()
        return self
