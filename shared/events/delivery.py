"""What business systems subscribe to: every step of an intent's fate."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from shared.events.common import MetaError
from shared.events.envelope import Event

DeliveryState = Literal[
    "rejected",
    "held",
    "accepted",
    "sent",
    "delivered",
    "read",
    "played",
    "failed",
    "expired",
    "unknown",
]
TERMINAL_STATES: frozenset[str] = frozenset({"rejected", "delivered", "read", "failed", "expired"})


class DeliveryUpdated(Event):
    """An intent moved to a new delivery state."""

    intent_id: str
    phone_number_id: str
    to: str
    state: DeliveryState
    wamid: str | None = None
    reasons: list[str] = Field(default_factory=list)
    detail: str = ""
    errors: list[MetaError] = Field(default_factory=list)
    metadata: dict[str, str] = Field(default_factory=dict)
    pricing: dict[str, Any] | None = Field(
        default=None, description="Meta's pricing of the message, on the statuses that carry it."
    )

    @property
    def terminal(self) -> bool:
        return self.state in TERMINAL_STATES
