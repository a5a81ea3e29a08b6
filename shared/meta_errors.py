"""Meta's Cloud API error codes and what each means for a sender: the one table that dispatch
(sends) and templates (management calls) read. Adding a code is one row here.

Codes not in the table fail the request (Meta's "permanent" family); an answer with no
error object is judged by its HTTP status alone (`meaning_of`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from enum import Enum


class SenderAction(Enum):
    """What a sender does after Meta answered with a code."""

    RETRY = "retry"  # the same request may succeed later: back off by the code's pace
    HOLD_NUMBER = "hold_number"  # the number cannot send until someone fixes it: hold, not fail
    HOLD_SENDER = "hold_sender"  # Meta stopped the number, WABA or portfolio: all of it waits
    HOLD_CUSTOMER = "hold_customer"  # Meta capped the customer's marketing: theirs waits a day
    HOLDOUT = "holdout"  # the customer is in Meta's marketing holdout: fail, explained
    REENGAGE = "reengage"  # the customer service window is closed: only a template may go
    FEED_CONSENT = "feed_consent"  # the customer stopped marketing: fail and record the stop
    FAIL = "fail"  # this message can never be sent as it is


class Pace(Enum):
    """How quickly a retried request may go again."""

    THROTTLED = "throttled"  # the number's throughput (130429) or an app/WABA rate limit
    PAIR_RATE = "pair_rate"  # too many messages to one customer (131056): 4^n seconds
    MAINTENANCE = "maintenance"  # the number is being upgraded or migrated
    TRANSIENT = "transient"  # Meta unavailable, 5xx, connection refused


class Scope(Enum):
    """What a hold stops: everything the held entity sends, until the hold ends."""

    NUMBER = "number"  # one business phone number
    WABA = "waba"  # every number of the WhatsApp Business Account
    PORTFOLIO = "portfolio"  # every number of the business portfolio (its messaging limit)
    CUSTOMER_MARKETING = "customer_marketing"  # marketing to one customer, from any number


@dataclass(frozen=True)
class CodeMeaning:
    action: SenderAction
    pace: Pace | None = None  # set exactly when action is RETRY
    title: str = ""
    scope: Scope | None = None  # set exactly when action is HOLD_SENDER or HOLD_CUSTOMER
    wait: timedelta | None = None  # how long the hold lasts unless an account signal ends it


def _retry(pace: Pace, title: str) -> CodeMeaning:
    return CodeMeaning(SenderAction.RETRY, pace, title)


def _hold(title: str) -> CodeMeaning:
    return CodeMeaning(SenderAction.HOLD_NUMBER, None, title)


def _stop(scope: Scope, wait: timedelta, title: str) -> CodeMeaning:
    return CodeMeaning(SenderAction.HOLD_SENDER, None, title, scope, wait)


MARKETING_HOLD = timedelta(hours=24)  # §6.4: resends within 24 h of 131049 just fail again
SENDER_HOLD = timedelta(hours=1)  # §9.2: stop-and-wait, then probe; a signal releases sooner


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
    # Meta stopped sending for the whole sender (§5, §6.3, §9.2): stop and wait, never retry
    # message by message; a later account signal (limit, restriction lifted) releases sooner.
    131048: _stop(Scope.PORTFOLIO, SENDER_HOLD, "Spam rate limit hit"),
    131064: _stop(Scope.PORTFOLIO, SENDER_HOLD, "Messaging limit for misclassified templates"),
    368: _stop(Scope.WABA, SENDER_HOLD, "Temporarily blocked for policies violations"),
    # Meta's per-user marketing cap (and the US pause): that customer's marketing waits 24 h.
    131049: CodeMeaning(
        SenderAction.HOLD_CUSTOMER,
        None,
        "Meta chose not to deliver",
        Scope.CUSTOMER_MARKETING,
        MARKETING_HOLD,
    ),
    # Meta's marketing holdout experiment: not delivered, not billed; resending changes nothing.
    130472: CodeMeaning(SenderAction.HOLDOUT, None, "User's number is part of an experiment"),
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
