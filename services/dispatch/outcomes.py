"""Pure decisions of dispatch: how a Cloud API answer is classified, whether an approval is
still good, and which status moves an intent forward."""

from __future__ import annotations

from datetime import datetime
from enum import Enum

from services.dispatch.ledger import LedgerState
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
_RANK: dict[str, int] = {
    LedgerState.QUEUED: 0,
    LedgerState.SENDING: 0,
    LedgerState.UNKNOWN: 1,
    LedgerState.ACCEPTED: 2,
    LedgerState.SENT: 3,
    LedgerState.DELIVERED: 4,
    LedgerState.PLAYED: 5,
    LedgerState.READ: 5,
    LedgerState.FAILED: 6,
}
NO_FURTHER_STATUS = frozenset(
    {
        LedgerState.REJECTED,
        LedgerState.EXPIRED,
        LedgerState.FAILED,
        LedgerState.READ,
        LedgerState.PLAYED,
    }
)
"""The states no status of Meta's moves an intent out of. Not the contract's
`shared.events.delivery.TERMINAL_STATES` (the outcomes a business may treat as final): that
one counts `delivered` as final and not `played`, while here a `delivered` intent still goes
on to `read` or `played`."""


def advance(current: str, status: str) -> LedgerState | None:
    """The intent's new state after `status`, or None when it changes nothing."""
    if current in NO_FURTHER_STATUS or current == status:
        return None
    if status == LedgerState.FAILED:
        return LedgerState.FAILED
    rank = _RANK.get(status)
    if rank is None:
        return None
    return LedgerState(status) if rank > _RANK.get(current, 0) else None
