"""Pure decisions of dispatch: how a Cloud API answer is classified, whether an approval is
still good, and which status moves an intent forward."""

from __future__ import annotations

from datetime import datetime
from enum import Enum

from shared.events.common import MetaError

# Throttling, maintenance and temporary unavailability (§5): try again later.
RETRYABLE_CODES = frozenset(
    {1, 2, 4, 80007, 130429, 131000, 131016, 131056, 131057, 133004, 2494100}
)
# Authentication and Meta's 200-299 "API Permission" range: the number is held, not failed.
AUTH_CODES = frozenset({0, 3, 10, 190, *range(200, 300)})
# The account or number cannot send at all until someone fixes it (§5 "HALT": locked account,
# billing, certificate, number not registered): hold its intents rather than fail each one.
ACCOUNT_HALT_CODES = frozenset({131031, 131042, 131045, 133010})
NO_RESPONSE = 0  # HTTP status when the request never reached the Cloud API


class Classification(Enum):
    RETRY = "retry"
    HOLD = "hold"  # credentials or permissions: do not fail the intent, stop the number
    FAIL = "fail"


def classify(http_status: int, error: MetaError | None) -> Classification:
    """Branch on Meta's error code, not the HTTP status; 5xx without a body is transient,
    and a connection that never reached Meta is retried."""
    if http_status == NO_RESPONSE:
        return Classification.RETRY
    if error is None:
        return (
            Classification.RETRY
            if http_status >= 500 or http_status == 429
            else Classification.FAIL
        )
    if error.code in RETRYABLE_CODES:
        return Classification.RETRY
    if error.code in AUTH_CODES or error.code in ACCOUNT_HALT_CODES:
        return Classification.HOLD
    return Classification.FAIL


def approval_expired(valid_until: datetime | None, now: datetime) -> bool:
    return valid_until is not None and now >= valid_until


# The order in which Meta's statuses progress; a status never moves an intent backwards.
_RANK = {
    "queued": 0,
    "sending": 0,
    "retry": 0,
    "unknown": 1,
    "accepted": 2,
    "sent": 3,
    "delivered": 4,
    "played": 5,
    "read": 5,
    "failed": 6,
}
TERMINAL = frozenset({"rejected", "expired", "failed", "read", "played"})


def advance(current: str, status: str) -> str | None:
    """The intent's new state after `status`, or None when it changes nothing."""
    if current in TERMINAL or current == status:
        return None
    if status == "failed":
        return "failed"
    rank = _RANK.get(status)
    if rank is None:
        return None
    return status if rank > _RANK.get(current, 0) else None
