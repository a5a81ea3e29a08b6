"""The one table of Meta's error codes: what each code means for a sender."""

from __future__ import annotations

from datetime import timedelta

import pytest

from shared.meta_errors import CODES, NO_RESPONSE, Pace, Scope, SenderAction, meaning, meaning_of

A = SenderAction


@pytest.mark.parametrize(
    ("code", "action", "pace"),
    [
        (1, A.RETRY, Pace.TRANSIENT),
        (2, A.RETRY, Pace.TRANSIENT),
        (4, A.RETRY, Pace.THROTTLED),
        (80007, A.RETRY, Pace.THROTTLED),
        (130429, A.RETRY, Pace.THROTTLED),
        (131000, A.RETRY, Pace.TRANSIENT),
        (131016, A.RETRY, Pace.TRANSIENT),
        (131056, A.RETRY, Pace.PAIR_RATE),
        (131057, A.RETRY, Pace.MAINTENANCE),
        (133004, A.RETRY, Pace.TRANSIENT),
        (2494100, A.RETRY, Pace.MAINTENANCE),
        (0, A.HOLD_NUMBER, None),
        (3, A.HOLD_NUMBER, None),
        (10, A.HOLD_NUMBER, None),
        (190, A.HOLD_NUMBER, None),
        (200, A.HOLD_NUMBER, None),
        (250, A.HOLD_NUMBER, None),
        (299, A.HOLD_NUMBER, None),
        (131031, A.HOLD_NUMBER, None),
        (131042, A.HOLD_NUMBER, None),
        (131045, A.HOLD_NUMBER, None),
        (133010, A.HOLD_NUMBER, None),
        (131047, A.REENGAGE, None),
        (131050, A.FEED_CONSENT, None),
        (131026, A.FAIL, None),
        (131051, A.FAIL, None),
        (132001, A.FAIL, None),
        (300, A.FAIL, None),
        (100, A.FAIL, None),
        (368, A.HOLD_SENDER, None),
        (131048, A.HOLD_SENDER, None),
        (131064, A.HOLD_SENDER, None),
        (131049, A.HOLD_CUSTOMER, None),
        (130472, A.HOLDOUT, None),
        (132015, A.FAIL, None),
    ],
)
def test_each_code_means_one_thing(code: int, action: SenderAction, pace: Pace | None) -> None:
    found = meaning(code)
    assert (found.action, found.pace) == (action, pace)


@pytest.mark.parametrize(
    ("http_status", "code", "action", "pace"),
    [
        (NO_RESPONSE, None, A.RETRY, Pace.TRANSIENT),
        (NO_RESPONSE, 131026, A.RETRY, Pace.TRANSIENT),
        (500, None, A.RETRY, Pace.TRANSIENT),
        (503, None, A.RETRY, Pace.TRANSIENT),
        (429, None, A.RETRY, Pace.THROTTLED),
        (400, None, A.FAIL, None),
        (404, None, A.FAIL, None),
        (400, 130429, A.RETRY, Pace.THROTTLED),
        (500, 131026, A.FAIL, None),  # the code decides, not the HTTP status
        (401, 190, A.HOLD_NUMBER, None),
    ],
)
def test_the_code_decides_and_the_status_only_without_one(
    http_status: int, code: int | None, action: SenderAction, pace: Pace | None
) -> None:
    found = meaning_of(http_status, code)
    assert (found.action, found.pace) == (action, pace)


def test_a_retried_code_always_has_a_pace_and_no_other_does() -> None:
    for code, found in CODES.items():
        assert (found.pace is not None) == (found.action is SenderAction.RETRY), code
        assert found.title, code


@pytest.mark.parametrize(
    ("code", "scope", "wait"),
    [
        (131048, Scope.PORTFOLIO, timedelta(hours=1)),
        (131064, Scope.PORTFOLIO, timedelta(hours=1)),
        (368, Scope.WABA, timedelta(hours=1)),
        (131049, Scope.CUSTOMER_MARKETING, timedelta(hours=24)),
    ],
)
def test_a_hold_names_what_it_stops_and_for_how_long(
    code: int, scope: Scope, wait: timedelta
) -> None:
    found = meaning(code)
    assert (found.scope, found.wait) == (scope, wait)


def test_only_holds_have_a_scope_and_a_wait() -> None:
    holds = {SenderAction.HOLD_SENDER, SenderAction.HOLD_CUSTOMER}
    for code, found in CODES.items():
        assert (found.scope is not None) is (found.action in holds), code
        assert (found.wait is not None) is (found.action in holds), code
