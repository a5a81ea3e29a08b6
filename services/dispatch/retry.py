"""Pure retry schedule: which pace of retry Meta's error code calls for
(`shared.meta_errors`), and when the next attempt may go (exponential backoff with jitter),
or None once the intent's time is up."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from shared.events.common import MetaError
from shared.meta_errors import Pace, meaning_of


def kind_of(http_status: int, error: MetaError | None) -> Pace:
    """The pace of an answer already classified as retryable (Meta's table decides)."""
    return meaning_of(http_status, None if error is None else error.code).pace or Pace.TRANSIENT


@dataclass(frozen=True)
class RetryPolicy:
    base_s: float = 0.5
    cap_s: float = 60.0
    max_attempts: int = 10
    maintenance_s: float = 60.0


def backoff_s(kind: Pace, attempt: int, policy: RetryPolicy) -> float:
    """The un-jittered wait after the `attempt`-th failed attempt (1-based)."""
    n = max(attempt, 1) - 1
    if kind is Pace.PAIR_RATE:
        return min(4.0**n, policy.cap_s)  # Meta's rule for 131056: 4^X seconds
    if kind is Pace.MAINTENANCE:
        return policy.maintenance_s
    base = policy.base_s * (2 if kind is Pace.THROTTLED else 1)
    return min(base * 2.0**n, policy.cap_s)


def next_attempt_at(
    kind: Pace,
    attempt: int,
    now: datetime,
    not_after: datetime | None,
    jitter: float,
    policy: RetryPolicy,
) -> datetime | None:
    """When to try again after the `attempt`-th failure, or None when retries are exhausted.

    `jitter` in [0, 1) spreads the wait over [half, whole] of the backoff ("equal jitter").
    """
    if attempt >= policy.max_attempts:
        return None
    wait = backoff_s(kind, attempt, policy)
    at = now + timedelta(seconds=wait * (0.5 + 0.5 * min(max(jitter, 0.0), 1.0)))
    if not_after is not None and at >= not_after:
        return None
    return at
