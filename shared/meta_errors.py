"""Meta's Cloud API error codes and what each means for a sender: the one table that dispatch
(sends) and templates (management calls) read. Adding a code is one row here.

Codes not in the table fail the request (Meta's "permanent" family); an answer with no
error object is judged by its HTTP status alone (`meaning_of`).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class SenderAction(Enum):
    """What a sender does after Meta answered with a code."""

    RETRY = "retry"  # the same request may succeed later: back off by the code's pace
    HOLD_NUMBER = "hold_number"  # the number cannot send until someone fixes it: hold, not fail
    REENGAGE = "reengage"  # the customer service window is closed: only a template may go
    FEED_CONSENT = "feed_consent"  # the customer stopped marketing: fail and record the stop
    FAIL = "fail"  # this message can never be sent as it is


class Pace(Enum):
    """How quickly a retried request may go again."""

    THROTTLED = "throttled"  # the number's throughput (130429) or an app/WABA rate limit
    PAIR_RATE = "pair_rate"  # too many messages to one customer (131056): 4^n seconds
    MAINTENANCE = "maintenance"  # the number is being upgraded or migrated
    TRANSIENT = "transient"  # Meta unavailable, 5xx, connection refused


@dataclass(frozen=True)
class CodeMeaning:
    action: SenderAction
    pace: Pace | None = None  # set exactly when action is RETRY
    title: str = ""


def _retry(pace: Pace, title: str) -> CodeMeaning:
    return CodeMeaning(SenderAction.RETRY, pace, title)


def _hold(title: str) -> CodeMeaning:
    return CodeMeaning(SenderAction.HOLD_NUMBER, None, title)


CODES: dict[int, CodeMeaning] = {
    # Throttling, maintenance and temporary unavailability (rules §5): try again later.
    1: _retry(Pace.TRANSIENT, "API Unknown"),
    2: _retry(Pace.TRANSIENT, "API Service"),
    4: _retry(Pace.THROTTLED, "API Too Many Calls"),
    80007: _retry(Pace.THROTTLED, "Rate limit issues"),
    130429: _retry(Pace.THROTTLED, "Rate limit hit"),
    131000: _retry(Pace.TRANSIENT, "Something went wrong"),
    131016: _retry(Pace.TRANSIENT, "Service unavailable"),
    131056: _retry(Pace.PAIR_RATE, "Pair rate limit hit"),
    131057: _retry(Pace.MAINTENANCE, "Account in maintenance mode"),
    133004: _retry(Pace.TRANSIENT, "Server temporarily unavailable"),
    2494100: _retry(Pace.MAINTENANCE, "Phone number migration in progress"),
    # Authentication: the number is held, not failed (Meta's 200-299 range is added below).
    0: _hold("AuthException"),
    3: _hold("API Method"),
    10: _hold("Permission denied"),
    190: _hold("Access token has expired"),
    # The account or number cannot send at all until someone fixes it (§5 "HALT").
    131031: _hold("Account has been locked"),
    131042: _hold("Business eligibility payment issue"),
    131045: _hold("Incorrect certificate"),
    133010: _hold("Phone number not registered"),
    # The window closed: a free-form message needs a template.
    131047: CodeMeaning(SenderAction.REENGAGE, None, "Re-engagement message"),
    # The customer stopped marketing from this business.
    131050: CodeMeaning(SenderAction.FEED_CONSENT, None, "User stopped marketing messages"),
}
PERMISSION_RANGE = range(200, 300)  # Meta's "API Permission" family
_PERMISSION = _hold("API Permission")
_FAIL = CodeMeaning(SenderAction.FAIL)
_NO_ANSWER = _retry(Pace.TRANSIENT, "no answer from the Cloud API")
_THROTTLED = _retry(Pace.THROTTLED, "HTTP 429")
_SERVER_ERROR = _retry(Pace.TRANSIENT, "HTTP 5xx")
NO_RESPONSE = 0  # the HTTP status recorded when the request never reached the Cloud API


def meaning(code: int) -> CodeMeaning:
    """What Meta's error `code` means for a sender; unknown codes fail."""
    if code in CODES:
        return CODES[code]
    if code in PERMISSION_RANGE:
        return _PERMISSION
    return _FAIL


def meaning_of(http_status: int, code: int | None) -> CodeMeaning:
    """Branch on Meta's code, not the HTTP status; without a code a 5xx is transient, a 429
    throttled, and a request that never reached Meta is retried."""
    if http_status == NO_RESPONSE:
        return _NO_ANSWER
    if code is not None:
        return meaning(code)
    if http_status == 429:
        return _THROTTLED
    return _SERVER_ERROR if http_status >= 500 else _FAIL
