"""Customers' consent as wagate learns it from sending: Meta refusing a marketing message
because the customer stopped marketing from this business (131050)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from shared.events.envelope import Event


class ConsentChanged(Event):
    """A customer's consent to one category of messages changed (for policy's suppression)."""

    customer: str = Field(description="The customer's WhatsApp id (digits).")
    phone_number_id: str
    category: Literal["marketing", "utility", "service"] | str = "marketing"
    opted_in: bool
    source: str = Field(description="What showed it, e.g. `send_error:131050`.")
    intent_id: str | None = Field(default=None, description="The intent that revealed it.")
