"""Dispatch's pure decisions: classify Cloud API answers, expire approvals, advance statuses."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.dispatch.ledger import LedgerState
from services.dispatch.outcomes import (
    Classification,
    advance,
    approval_expired,
    classify,
)
from shared.events.common import MetaError
from shared.meta_errors import NO_RESPONSE

NOW = datetime(2025, 6, 8, 21, 0, 0, tzinfo=UTC)
RETRY, HOLD, FAIL = Classification.RETRY, Classification.HOLD, Classification.FAIL


def _error(code: int, title: str = "") -> MetaError:
    return MetaError(code=code, title=title or None, message=title or None)


@pytest.mark.parametrize(
    ("http_status", "code", "title"),
    [
        (400, 130429, "Rate limit hit"),
        (400, 131056, "(Business Account, Consumer Account) pair rate limit hit"),
        (500, 131000, "Something went wrong"),
        (400, 4, "API Too Many Calls"),
        (400, 80007, "Rate limit issues"),
        (400, 1, "API Unknown"),
        (503, 2, "API Service"),
        (500, 131016, "Service unavailable"),
        (503, 133004, "Server Temporarily Unavailable"),
    ],
)
def test_throttling_and_transient_codes_are_retried(
    http_status: int, code: int, title: str
) -> None:
    assert classify(http_status, _error(code, title)) is RETRY


@pytest.mark.parametrize(
    ("http_status", "code", "title"),
    [
        (401, 190, "Access token has expired"),
        (401, 0, "AuthException"),
        (500, 3, "API Method"),
        (403, 10, "Permission Denied"),
        (403, 200, "API Permission"),
        (403, 299, "API Permission"),
    ],
)
def test_credential_and_permission_codes_hold_the_number(
    http_status: int, code: int, title: str
) -> None:
    assert classify(http_status, _error(code, title)) is HOLD


@pytest.mark.parametrize("code", [201, 250, 298])
def test_the_whole_200_to_299_permission_range_holds_the_number(code: int) -> None:
    assert classify(403, _error(code, "API Permission")) is HOLD


@pytest.mark.parametrize(
    ("http_status", "code", "title"),
    [
        (400, 131047, "Re-engagement message"),
        (400, 131026, "Message Undeliverable"),
        (400, 132000, "Template Param Count Mismatch"),
        (404, 132001, "Template does not exist"),
        (400, 100, "Invalid parameter"),
        (400, 131008, "Required parameter is missing"),
        (400, 131009, "Parameter value is not valid"),
        (400, 131049, "Meta chose not to deliver"),
        (400, 131050, "User has stopped receipt of marketing messages"),
        (400, 131051, "Unsupported message type"),
        (400, 132015, "Template is Paused"),
    ],
)
def test_permanent_codes_fail_the_intent(http_status: int, code: int, title: str) -> None:
    assert classify(http_status, _error(code, title)) is FAIL


@pytest.mark.parametrize(
    ("http_status", "code", "expected"),
    [
        pytest.param(400, 131000, RETRY, id="retryable-code-under-400"),
        pytest.param(429, 131047, FAIL, id="permanent-code-under-429"),
        pytest.param(500, 131047, FAIL, id="permanent-code-under-500"),
        pytest.param(503, 132000, FAIL, id="permanent-code-under-503"),
        pytest.param(400, 190, HOLD, id="auth-code-under-400"),
        pytest.param(500, 190, HOLD, id="auth-code-under-500"),
        pytest.param(200, 130429, RETRY, id="retryable-code-under-200"),
    ],
)
def test_meta_code_decides_not_the_http_status(
    http_status: int, code: int, expected: Classification
) -> None:
    assert classify(http_status, _error(code)) is expected


@pytest.mark.parametrize(
    ("http_status", "expected"),
    [
        (500, RETRY),
        (502, RETRY),
        (503, RETRY),
        (504, RETRY),
        (429, RETRY),
        (400, FAIL),
        (403, FAIL),
        (404, FAIL),
        (413, FAIL),
    ],
)
def test_without_an_error_body_the_http_status_decides(
    http_status: int, expected: Classification
) -> None:
    assert classify(http_status, None) is expected


@pytest.mark.parametrize(
    ("http_status", "code"),
    [(500, 131057), (400, 2494100)],
    ids=["131057-maintenance", "2494100-maintenance"],
)
def test_maintenance_mode_is_retried(http_status: int, code: int) -> None:
    assert classify(http_status, _error(code, "Account in maintenance mode")) is RETRY


@pytest.mark.parametrize(
    "error",
    [
        pytest.param(
            MetaError(code=-1, details="Cannot connect to host graph.facebook.com:443"),
            id="connector-error",
        ),
        pytest.param(None, id="no-error-object"),
    ],
)
def test_a_request_that_never_reached_meta_is_retried(error: MetaError | None) -> None:
    assert classify(NO_RESPONSE, error) is RETRY


@pytest.mark.parametrize(
    ("valid_until", "now", "expired"),
    [
        pytest.param(None, NOW, False, id="no-deadline"),
        pytest.param(NOW + timedelta(minutes=5), NOW, False, id="before"),
        pytest.param(NOW + timedelta(microseconds=1), NOW, False, id="a-microsecond-before"),
        pytest.param(NOW, NOW, True, id="exactly-at-deadline"),
        pytest.param(NOW - timedelta(microseconds=1), NOW, True, id="a-microsecond-after"),
        pytest.param(NOW - timedelta(hours=3), NOW, True, id="long-after"),
    ],
)
def test_approval_expired(valid_until: datetime | None, now: datetime, expired: bool) -> None:
    assert approval_expired(valid_until, now) is expired


@pytest.mark.parametrize(
    ("current", "status", "expected"),
    [
        ("sending", "sent", "sent"),
        ("unknown", "sent", "sent"),
        ("accepted", "sent", "sent"),
        ("sent", "delivered", "delivered"),
        ("delivered", "read", "read"),
        ("delivered", "played", "played"),
        ("accepted", "delivered", "delivered"),
        ("accepted", "read", "read"),
        ("sent", "read", "read"),
        ("unknown", "delivered", "delivered"),
    ],
)
def test_a_later_status_moves_the_intent_forward(current: str, status: str, expected: str) -> None:
    assert advance(current, status) == expected


@pytest.mark.parametrize(
    ("current", "status"),
    [
        ("delivered", "sent"),
        ("sent", "accepted"),
        ("delivered", "accepted"),
        ("accepted", "unknown"),
        ("sent", "sending"),
        ("delivered", "failed"),
        ("not_sent", "accepted"),
    ],
)
def test_an_earlier_status_never_moves_the_intent_back(current: str, status: str) -> None:
    assert advance(current, status) is None


@pytest.mark.parametrize("current", ["queued", "sending", "unknown", "accepted", "sent"])
def test_failed_ends_a_pending_intent(current: str) -> None:
    assert advance(current, "failed") == "failed"


@pytest.mark.parametrize("current", ["rejected", "expired", "failed", "read", "played"])
@pytest.mark.parametrize("status", ["sent", "delivered", "read", "played", "failed"])
def test_nothing_moves_an_intent_out_of_a_terminal_state(current: str, status: str) -> None:
    assert advance(current, status) is None


@pytest.mark.parametrize("status", ["deleted", "warning", "held_for_quality_assessment", ""])
@pytest.mark.parametrize("current", ["accepted", "sent", "delivered"])
def test_an_unknown_status_is_ignored(current: str, status: str) -> None:
    assert advance(current, status) is None


@pytest.mark.parametrize("state", ["accepted", "sent", "delivered", "unknown"])
def test_a_duplicate_status_changes_nothing(state: str) -> None:
    assert advance(state, state) is None


@pytest.mark.parametrize("status", ["sent", "delivered", "read", "failed"])
def test_a_real_status_wins_over_wagates_own_not_sent_guess(status: str) -> None:
    assert advance(LedgerState.NOT_SENT, status) == status


@pytest.mark.parametrize("status", ["sent", "delivered", "read", "failed"])
def test_a_real_status_of_an_earlier_send_wins_over_a_hand_back(status: str) -> None:
    assert advance(LedgerState.REDECIDING, status) == status


def test_out_of_order_statuses_settle_on_the_furthest_one() -> None:
    state = "accepted"
    for status in ["delivered", "sent", "read", "delivered"]:
        state = advance(state, status) or state

    assert state == "read"


@pytest.mark.parametrize(
    ("code", "title"),
    [
        (131031, "Account has been locked"),
        (131042, "Business eligibility payment issue"),
        (131045, "Incorrect certificate"),
        (133010, "Phone number Not Registered"),
    ],
)
def test_account_halts_hold_the_number_instead_of_failing_each_intent(
    code: int, title: str
) -> None:
    assert classify(400, _error(code, title)) is HOLD


def test_a_policy_block_holds_the_sender() -> None:
    assert classify(403, _error(368, "Temporarily blocked for policies violations")) is HOLD
