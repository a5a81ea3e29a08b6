"""The retry schedule: kind by Meta's code, exponential backoff with jitter, time limits."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.dispatch.retry import RetryPolicy, backoff_s, kind_of, next_attempt_at
from shared.events.common import MetaError
from shared.meta_errors import Pace

NOW = datetime(2025, 6, 8, 21, 0, 0, tzinfo=UTC)
POLICY = RetryPolicy(base_s=0.5, cap_s=60.0, max_attempts=10, maintenance_s=60.0)
T, P, M, X = Pace.THROTTLED, Pace.PAIR_RATE, Pace.MAINTENANCE, Pace.TRANSIENT


@pytest.mark.parametrize(
    ("http_status", "code", "kind"),
    [
        (400, 130429, T),
        (400, 4, T),
        (400, 80007, T),
        (400, 131056, P),
        (500, 131057, M),
        (400, 2494100, M),
        (400, 1, X),
        (503, 2, X),
        (500, 131000, X),
        (500, 131016, X),
        (503, 133004, X),
        (429, None, T),
        (502, None, X),
        (0, -1, X),
    ],
)
def test_the_kind_follows_metas_code(http_status: int, code: int | None, kind: Pace) -> None:
    error = MetaError(code=code) if code is not None else None
    assert kind_of(http_status, error) is kind


@pytest.mark.parametrize(
    ("kind", "attempt", "seconds"),
    [
        (X, 1, 0.5),
        (X, 2, 1.0),
        (X, 3, 2.0),
        (X, 8, 60.0),  # 64 s capped
        (T, 1, 1.0),
        (T, 2, 2.0),
        (T, 7, 60.0),
        (P, 1, 1.0),  # Meta's 4^X rule for 131056
        (P, 2, 4.0),
        (P, 3, 16.0),
        (P, 4, 60.0),  # 64 s capped
        (M, 1, 60.0),
        (M, 5, 60.0),
        (X, 0, 0.5),
    ],
)
def test_backoff_grows_exponentially_up_to_the_cap(
    kind: Pace, attempt: int, seconds: float
) -> None:
    assert backoff_s(kind, attempt, POLICY) == seconds


@pytest.mark.parametrize(
    ("jitter", "seconds"),
    [(0.0, 1.0), (0.5, 1.5), (0.999, 1.999), (-1.0, 1.0), (7.0, 2.0)],
)
def test_jitter_spreads_the_wait_over_half_to_whole(jitter: float, seconds: float) -> None:
    at = next_attempt_at(X, 3, NOW, None, jitter, POLICY)  # backoff 2 s
    assert at == NOW + timedelta(seconds=seconds)


@pytest.mark.parametrize(
    ("attempt", "not_after", "expected"),
    [
        pytest.param(1, None, NOW + timedelta(seconds=0.25), id="no-deadline"),
        pytest.param(1, NOW + timedelta(seconds=10), NOW + timedelta(seconds=0.25), id="in-time"),
        pytest.param(1, NOW + timedelta(seconds=0.25), None, id="retry-at-deadline"),
        pytest.param(5, NOW + timedelta(seconds=3), None, id="backoff-beyond-deadline"),
        pytest.param(10, None, None, id="attempts-exhausted"),
        pytest.param(9, None, NOW + timedelta(seconds=30), id="last-attempt-allowed"),
    ],
)
def test_retries_stop_at_not_after_or_max_attempts(
    attempt: int, not_after: datetime | None, expected: datetime | None
) -> None:
    assert next_attempt_at(X, attempt, NOW, not_after, 0.0, POLICY) == expected
