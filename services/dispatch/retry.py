"""Pure retry schedule: which kind of retry Meta's error code calls for, and when the next
attempt may go (exponential backoff with jitter), or None once the intent's time is up."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum

from shared.events.common import MetaError


class RetryKind(Enum):
    THROTTLED = "throttled"  # the number's throughput (130429) or an app/WABA rate limit
    PAIR_RATE = "pair_rate"  # too many messages to one customer (131056)
    MAINTENANCE = "maintenance"  # the number is being upgraded or migrated
    TRANSIENT = "transient"  # Meta unavailable, 5xx, connection refused


KIND_BY_CODE: dict[int, RetryKind] = {
    130429: RetryKind.THROTTLED,
    4: RetryKind.THROTTLED,
    80007: RetryKind.THROTTLED,
    131056: RetryKind.PAIR_RATE,
    131057: RetryKind.MAINTENANCE,
    2494100: RetryKind.MAINTENANCE,
    1: RetryKind.TRANSIENT,
    2: RetryKind.TRANSIENT,
    131000: RetryKind.TRANSIENT,
    131016: RetryKind.TRANSIENT,
    133004: RetryKind.TRANSIENT,
}


def kind_of(http_status: int, error: MetaError | None) -> RetryKind:
    """The retry kind of an answer already classified as retryable."""
    if error is not None and error.code in KIND_BY_CODE:
        return KIND_BY_CODE[error.code]
    if http_status == 429:
        return RetryKind.THROTTLED
    return RetryKind.TRANSIENT


@dataclass(frozen=True)
class RetryPolicy:
    base_s: float = 0.5
    cap_s: float = 60.0
    max_attempts: int = 10
    maintenance_s: float = 60.0


def backoff_s(kind: RetryKind, attempt: int, policy: RetryPolicy) -> float:
    """The un-jittered wait after the `attempt`-th failed attempt (1-based)."""
    n = max(attempt, 1) - 1
    if kind is RetryKind.PAIR_RATE:
        return min(4.0**n, policy.cap_s)  # Meta's rule for 131056: 4^X seconds
    if kind is RetryKind.MAINTENANCE:
        return policy.maintenance_s
    base = policy.base_s * (2 if kind is RetryKind.THROTTLED else 1)
    return min(base * 2.0**n, policy.cap_s)


def next_attempt_at(
    kind: RetryKind,
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
