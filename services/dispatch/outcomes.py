"""Pure decisions of dispatch: how a Cloud API answer is classified, whether an approval is
still good, and which status moves an intent forward."""

from __future__ import annotations

from datetime import datetime
from enum import Enum

from shared.events.common import MetaError
from shared.meta_errors import SenderAction, meaning_of


class Classification(Enum):
    RETRY = "retry"
    HOLD = "hold"  # credentials, permissions or an account halt: do not fail, stop the number
    FAIL = "fail"


_CLASS = {
    SenderAction.RETRY: Classification.RETRY,
    SenderAction.HOLD_NUMBER: Classification.HOLD,
}


def classify(http_status: int, error: MetaError | None) -> Classification:
    """Branch on Meta's code (`shared.meta_errors`), not the HTTP status; 5xx without a body
    is transient, and a connection that never reached Meta is retried."""
    found = meaning_of(http_status, None if error is None else error.code)
    return _CLASS.get(found.action, Classification.FAIL)


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
