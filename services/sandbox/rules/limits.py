"""Throughput limits as token buckets (§6.1, §6.2): per business number (130429) and per
business number x recipient pair (131056). Pure: a bucket value in, the next value out."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from services.sandbox.rules import codes
from shared.events.common import MetaError

DEFAULT_MPS = 80.0
PAIR_BURST = 45.0
PAIR_INTERVAL_S = 6.0


@dataclass(frozen=True)
class Bucket:
    tokens: float
    at: datetime


def take(bucket: Bucket | None, capacity: float, per_second: float, now: datetime) -> Bucket | None:
    """The bucket after taking one token, or None when it is empty (nothing is taken then)."""
    if bucket is None:
        bucket = Bucket(capacity, now)
    elapsed = max(0.0, (now - bucket.at).total_seconds())
    tokens = min(capacity, bucket.tokens + elapsed * per_second)
    if tokens < 1.0:
        return None
    return Bucket(tokens - 1.0, now)


def spend(bucket: Bucket | None, capacity: float, per_second: float, now: datetime) -> Bucket:
    """The bucket after a message that was sent whatever it held (an echo from the Business
    app): it may go into debt, at most `capacity` deep."""
    if bucket is None:
        bucket = Bucket(capacity, now)
    elapsed = max(0.0, (now - bucket.at).total_seconds())
    tokens = min(capacity, bucket.tokens + elapsed * per_second)
    return Bucket(max(tokens - 1.0, -capacity), now)


@dataclass(frozen=True)
class Limits:
    mps: float = DEFAULT_MPS
    pair_burst: float = PAIR_BURST
    pair_interval_s: float = PAIR_INTERVAL_S


def check_rates(
    number: Bucket | None, pair: Bucket | None, limits: Limits, now: datetime
) -> tuple[Bucket | None, Bucket | None, MetaError | None]:
    """Take one send from both buckets; a refusal leaves both unchanged."""
    next_number = take(number, limits.mps, limits.mps, now)
    if next_number is None:
        return number, pair, codes.throughput()
    next_pair = take(pair, limits.pair_burst, 1.0 / limits.pair_interval_s, now)
    if next_pair is None:
        return number, pair, codes.pair_rate()
    return next_number, next_pair, None
