"""Pure rate arithmetic over an explicit clock: token buckets for a business number's
throughput and for each customer's pair rate (§6.1-6.2)."""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

from shared.events.keys import normalize_wa_id

_EPSILON = 1e-9  # float rounding must not cost a whole interval


@dataclass
class TokenBucket:
    """`rate` tokens per second, at most `burst` saved up; a token is one message."""

    rate: float
    burst: float
    tokens: float = 0.0
    stamp: float | None = None  # None: never used, the bucket starts full
    blocked_until: float = 0.0

    def _refill(self, now: float) -> None:
        if self.stamp is None:
            self.tokens, self.stamp = self.burst, now
            return
        if now > self.stamp:
            self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
            self.stamp = now

    def wait_s(self, now: float) -> float:
        """Seconds until a token is available (0 when one is there now)."""
        self._refill(now)
        if now < self.blocked_until:
            return self.blocked_until - now
        return 0.0 if self.tokens >= 1 - _EPSILON else (1 - self.tokens) / self.rate

    def try_take(self, now: float) -> bool:
        if self.wait_s(now) > 0:
            return False
        self.tokens -= 1
        return True

    def spend(self, now: float) -> None:
        """A message sent by someone else on the number (an echo) took a token: it may leave
        the bucket in debt, at most one burst deep, which the next sends wait out."""
        self._refill(now)
        self.tokens = max(self.tokens - 1, -self.burst)

    def block(self, now: float, seconds: float) -> None:
        """Meta said slow down: no token for `seconds`, and the saved-up burst is gone."""
        self._refill(now)
        self.tokens = min(self.tokens, 0.0)
        self.blocked_until = max(self.blocked_until, now + seconds)


class PairGate:
    """One small bucket per customer of a number (1 message per `interval_s`, `burst`)."""

    def __init__(self, interval_s: float, burst: float, max_tracked: int = 100_000) -> None:
        self._rate = 1.0 / interval_s
        self._burst = burst
        self._max = max_tracked
        self._buckets: OrderedDict[str, TokenBucket] = OrderedDict()

    def _bucket(self, customer: str) -> TokenBucket:
        recipient = normalize_wa_id(customer) or customer  # `+1 650…` and `1650…`: one customer
        bucket = self._buckets.get(recipient)
        if bucket is None:
            bucket = self._buckets[recipient] = TokenBucket(self._rate, self._burst)
            if len(self._buckets) > self._max:
                self._buckets.popitem(last=False)  # a long-idle customer has a full bucket anyway
        else:
            self._buckets.move_to_end(recipient)
        return bucket

    def wait_s(self, recipient: str, now: float) -> float:
        return self._bucket(recipient).wait_s(now)

    def try_take(self, recipient: str, now: float) -> bool:
        return self._bucket(recipient).try_take(now)

    def block(self, recipient: str, now: float, seconds: float) -> None:
        self._bucket(recipient).block(now, seconds)

    def spend(self, recipient: str, now: float) -> None:
        self._bucket(recipient).spend(now)


def lease_block(rate: float, lease_s: float) -> int:
    """Tokens one lease of a shared budget asks for: `lease_s` of the rate, at least two (the
    next lease is asked for while the last token of one is spent)."""
    return max(2, int(rate * lease_s + _EPSILON))


def lease_burst(rate: float, lease_s: float) -> float:
    """What a number's shared row saves up: a block and `lease_s` more of the rate, so a
    replica asking a little late loses nothing."""
    return lease_block(rate, lease_s) + rate * lease_s


def most_in_a_second(rate: float, lease_s: float) -> float:
    """What all replicas of a shared budget may send together in any one second. A lease's
    tokens stay valid `lease_s` past the time to spend what the replica holds (under two
    blocks) at the rate, so a second's sends were granted within 1 s + that validity, and the
    row grants at most `rate` a second plus what it saved up."""
    block = lease_block(rate, lease_s)
    return rate * (1 + lease_s) + 2 * block + lease_burst(rate, lease_s)


@dataclass
class Lease:
    """Tokens this replica took from a number's shared budget: spent one message each until
    `expires_at`; what is left then is lost, never handed back (every replica's spends in any
    interval stay within what the shared budget granted just before it)."""

    tokens: int = 0
    expires_at: float = 0.0

    def left(self, now: float) -> int:
        return self.tokens if now < self.expires_at else 0

    def add(self, tokens: int, asked_at: float, valid_s: float) -> None:
        """`tokens` granted by a lease asked for at `asked_at`, joining what is left of the
        last (asked for once that ran low, so at most a block is carried over); validity
        counts from the ask, so a slow round trip shortens it rather than stretching it."""
        self.tokens = self.left(asked_at) + tokens
        self.expires_at = asked_at + valid_s

    def take(self, now: float) -> bool:
        if self.left(now) < 1:
            return False
        self.tokens -= 1
        return True

    def drop(self) -> None:
        """Meta throttled the number: what this replica still holds is not spent."""
        self.tokens = 0
