"""Pure decisions of dispatch: how a Cloud API answer is classified, whether an approval is
still good, and which status moves an intent forward."""

from __future__ import annotations

from datetime import datetime
from enum import Enum

from services.dispatch.ledger import REPORTED_AS, LedgerState
from shared.events.common import MetaError
from shared.events.delivery import REAL, may_follow
from shared.meta_errors import SenderAction, meaning_of


class Classification(Enum):
    RETRY = "retry"
    HOLD = "hold"  # credentials, permissions or an account halt: do not fail, stop the number
    FAIL = "fail"


_CLASS = {
    SenderAction.RETRY: Classification.RETRY,
    SenderAction.HOLD_NUMBER: Classification.HOLD,
    SenderAction.HOLD_SENDER: Classification.HOLD,
}


def classify(http_status: int, error: MetaError | None) -> Classification:
    """Branch on Meta's code (`shared.meta_errors`), not the HTTP status; 5xx without a body
    is transient, and a connection that never reached Meta is retried."""
    found = meaning_of(http_status, None if error is None else error.code)
    return _CLASS.get(found.action, Classification.FAIL)


def approval_expired(valid_until: datetime | None, now: datetime) -> bool:
    return valid_until is not None and now >= valid_until


def advance(current: LedgerState, status: str) -> LedgerState | None:
    """The intent's new state after Meta's `status`, or None when it changes nothing. The
    order is the contract's (`shared.events.delivery.may_follow`): forward only, `delivered`
    never turns `failed`, and a real status beats wagate's own `not sent` guess. An intent
    queued, being sent or handed back to policy takes any real status: an earlier send did
    reach Meta (the statuses of a send a re-decision replaced are dropped before this)."""
    if status not in REAL:
        return None
    if current in (LedgerState.QUEUED, LedgerState.SENDING, LedgerState.REDECIDING):
        return LedgerState(status)
    said = REPORTED_AS.get(current)
    if said is None:
        return None
    guessed = current is LedgerState.NOT_SENT
    return LedgerState(status) if may_follow(said, status, guessed=guessed) else None
