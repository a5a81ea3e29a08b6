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

# The order of one intent's updates, said once (dispatch's ledger follows it too).
PENDING: frozenset[str] = frozenset({"held", "unknown", "accepted"})
"""Nothing has reached the customer yet: the intent may still be re-decided by policy, so any
state may follow (a second `accepted`, with the fallback's wamid, after Meta's 131047; a second
`unknown`, reason `OUTCOME_UNCONFIRMED`, once no status confirmed the send in time)."""
SAID_AGAIN: frozenset[str] = frozenset({"accepted", "unknown"})
ON_ITS_WAY: dict[str, frozenset[str]] = {
    "sent": frozenset({"delivered", "read", "played", "failed"}),
    "delivered": frozenset({"read", "played"}),
}
"""What may follow a state Meta reported: forward only; `delivered` never turns `failed`."""
REAL: frozenset[str] = frozenset({"sent", "delivered", "read", "played", "failed"})
"""Meta's own statuses: after a guessed `failed` (reason `NOT_SENT`) any of them wins."""


def may_follow(current: str, new: str, *, guessed: bool = False) -> bool:
    """Whether an update saying `new` may follow one saying `current` for the same intent;
    `guessed`: `current` is wagate's own verdict (`failed` with `NOT_SENT`), not Meta's."""
    if current in PENDING:
        return new != current or new in SAID_AGAIN
    if current == "failed" and guessed:
        return new in REAL
    return new in ON_ITS_WAY.get(current, frozenset())


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
