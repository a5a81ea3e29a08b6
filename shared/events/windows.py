"""Customer service window changes policy announces: opened, expiring soon, closed."""

from __future__ import annotations

from typing import Literal

from pydantic import AwareDatetime, Field

from shared.events.envelope import Event

WindowChange = Literal["opened", "expiring", "closed"]


class WindowChanged(Event):
    """A business number's window with one customer opened, is about to close, or closed."""

    phone_number_id: str
    wa_id: str = Field(
        description="The customer's canonical key in the business portfolio: a phone (digits), "
        "or a BSUID for a customer known only by one."
    )
    change: WindowChange
    last_customer_message_at: AwareDatetime
    expires_at: AwareDatetime = Field(description="When free-form messages stop being allowed.")
