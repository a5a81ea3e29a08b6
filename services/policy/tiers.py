"""Meta's messaging limit: unique customers reached by business-initiated messages (templates
outside a window) in a moving 24 hours, across the business portfolio. Pure.

Policy decides per conversation partition, so each partition holds its share of the limit:
the shares add up to the limit exactly, so the portfolio never exceeds it (a skewed partition
may reach its share before the portfolio reaches the limit: conservative by design). Counts are
kept in hour buckets; a customer reached again an hour or more after being counted is counted
again, so nobody still inside Meta's moving window is ever missing from the count (someone may
be counted twice for up to an hour: again conservative).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

DAY = timedelta(hours=24)
BUCKET = timedelta(hours=1)


@dataclass(frozen=True)
class Reach:
    """What one decision needs: this partition's share, its use, and the customer's standing."""

    share: int | None  # None: no limit
    used: int
    counted_recently: bool

    def allows_new_customer(self) -> bool:
        return self.share is None or self.counted_recently or self.used < self.share


def share(limit: int | None, partitions: int, partition: int) -> int | None:
    if limit is None:
        return None
    base, extra = divmod(limit, partitions)
    return base + (1 if partition < extra else 0)


def bucket_of(now: datetime) -> str:
    return now.replace(minute=0, second=0, microsecond=0).isoformat()


def used(buckets: dict[str, int], now: datetime) -> int:
    """Customers counted in the buckets that still overlap the last 24 hours."""
    return sum(n for start, n in buckets.items() if _in_window(start, now))


def _in_window(bucket_start: str, now: datetime) -> bool:
    return datetime.fromisoformat(bucket_start) > now - DAY - BUCKET


def counted_recently(last_counted_at: datetime | None, now: datetime) -> bool:
    return last_counted_at is not None and now - last_counted_at < BUCKET


def count(buckets: dict[str, int], now: datetime) -> dict[str, int]:
    """The buckets with one more customer now, and those out of the window dropped."""
    kept = {s: n for s, n in buckets.items() if _in_window(s, now)}
    key = bucket_of(now)
    kept[key] = kept.get(key, 0) + 1
    return kept
