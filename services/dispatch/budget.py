"""A business number's throughput budget shared by every dispatch replica. The budget is a
token bucket in PostgreSQL (`dispatch_budgets`, one row per number, on the server's clock); a
replica leases a small block of tokens with one statement that refills the row by the time
elapsed and takes what is there, up to the block, then spends them locally. Tokens not spent
while the lease holds are lost, never handed back, so all replicas together send no more than
the bucket grants. Meta's 130429 blocks the row: every replica waits it out.

When PostgreSQL cannot be reached, a replica sends at its local share of the rate (the rate
divided by `rates.replicas`, the replicas the deployment runs) and asks again every second."""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass
from typing import Protocol

import asyncpg

from services.dispatch.rates import Lease, TokenBucket, lease_block, lease_burst
from services.dispatch.settings import RateSettings
from shared import logs
from shared.db import DatabaseUnavailable, reachable
from shared.errors import RetryableError

log = logs.get(__name__)
RETRY_S = 1.0  # how often a replica cut off from the budget tries it again


class BudgetUnavailable(DatabaseUnavailable):
    """The shared budget's PostgreSQL cannot be reached right now."""


# `avail`: the locked row's tokens refilled at its rate to now, capped at the burst asked for
_LEASE = """
INSERT INTO dispatch_budgets AS b (phone_number_id, tokens, stamp, rate, burst, granted)
VALUES ($1, $3 - LEAST($4, floor($3)), now(), $2, $3, LEAST($4, floor($3))::int)
ON CONFLICT (phone_number_id) DO UPDATE SET
    granted = CASE WHEN b.blocked_until > now() THEN 0 ELSE GREATEST(0, LEAST($4, floor(
        LEAST($3, b.tokens + b.rate * GREATEST(0, extract(epoch FROM now() - b.stamp))::float8)
        + 1e-9)))::int END,
    tokens = LEAST($3, b.tokens + b.rate * GREATEST(0, extract(epoch FROM now() - b.stamp))::float8)
        - CASE WHEN b.blocked_until > now() THEN 0 ELSE GREATEST(0, LEAST($4, floor(
        LEAST($3, b.tokens + b.rate * GREATEST(0, extract(epoch FROM now() - b.stamp))::float8)
        + 1e-9)))::int END,
    stamp = GREATEST(b.stamp, now()),
    rate = EXCLUDED.rate,
    burst = EXCLUDED.burst
RETURNING granted, tokens, rate,
          GREATEST(0, extract(epoch FROM blocked_until - now()))::float8 AS blocked_s
"""
_BLOCK = """
UPDATE dispatch_budgets AS b SET
    tokens = LEAST(0, LEAST(b.burst,
        b.tokens + b.rate * GREATEST(0, extract(epoch FROM now() - b.stamp))::float8)),
    stamp = GREATEST(b.stamp, now()),
    blocked_until = GREATEST(b.blocked_until, now() + make_interval(secs => $2))
WHERE phone_number_id = $1
"""


@dataclass(frozen=True)
class Grant:
    """What one lease took: `tokens`, and when none, how long until one may be there."""

    tokens: int
    wait_s: float = 0.0


class Budget(Protocol):
    """The budget every replica shares (`PostgresBudget`; tests give their own)."""

    async def lease(self, phone_number_id: str, rate: float, burst: float, want: int) -> Grant:
        """Refill the number's bucket at `rate` (capped at `burst`), take up to `want`."""
        ...

    async def block(self, phone_number_id: str, seconds: float) -> None:
        """Meta throttled the number: no tokens for anyone for `seconds`."""
        ...


class PostgresBudget:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def lease(self, phone_number_id: str, rate: float, burst: float, want: int) -> Grant:
        with reachable("the shared rate budget", BudgetUnavailable):
            row = await self._pool.fetchrow(_LEASE, phone_number_id, rate, burst, want)
        if row["granted"] > 0:
            return Grant(row["granted"])
        blocked = row["blocked_s"] or 0.0
        return Grant(0, blocked if blocked > 0 else max(0.0, (1 - row["tokens"]) / row["rate"]))

    async def block(self, phone_number_id: str, seconds: float) -> None:
        with reachable("the shared rate budget", BudgetUnavailable):
            await self._pool.execute(_BLOCK, phone_number_id, seconds)


class SharedRate:
    """One number's sends from this replica within the shared budget: `wait_s` leases the
    next block while the last one is spent (so the round trip to PostgreSQL is not waited
    for between sends), `take` spends one token (of the local share while the budget cannot
    be reached)."""

    def __init__(self, phone_number_id: str, budget: Budget, rates: RateSettings) -> None:
        self.phone_number_id = phone_number_id
        self._budget = budget
        self._lease_s = rates.lease_s
        self._replicas = rates.replicas
        self._lease = Lease()
        self._local = TokenBucket(1.0, 1.0)
        self._next_ask = 0.0
        self._asking: asyncio.Task[None] | None = None
        self._cut_off = False
        self._owed = 0  # tokens messages sent without dispatch used, not yet taken from a lease
        self._tasks: set[asyncio.Task[None]] = set()
        self.retune(rates.mps(phone_number_id))

    def retune(self, mps: float) -> None:
        """The number's rate (headroom taken off): the next lease sets it on the shared row."""
        self.rate = mps
        self.block_size = lease_block(mps, self._lease_s)
        self.burst = lease_burst(mps, self._lease_s)
        self._local.rate = mps / self._replicas
        self._local.burst = max(1.0, self._local.rate * self._lease_s)

    @property
    def cut_off(self) -> bool:
        """True while the budget cannot be reached and the local share applies."""
        return self._cut_off

    async def wait_s(self, now: float) -> float:
        """Seconds until this replica may send (0: a token is in hand)."""
        self._repay(now)
        left = self._lease.left(now)
        if left < self.block_size and self._asking is None and now >= self._next_ask:
            self._asking = asyncio.create_task(self._ask(now))
        if left >= 1:
            return 0.0
        if self._asking is not None:
            await asyncio.wait([self._asking])  # a cancelled sender leaves the ask running
        if self._lease.left(now) >= 1:
            return 0.0
        if self._cut_off:
            return self._local.wait_s(now)
        return max(self._next_ask - now, 0.001)

    async def _ask(self, asked_at: float) -> None:
        try:
            grant = await self._budget.lease(  # a block, and what echoes used meanwhile
                self.phone_number_id, self.rate, self.burst, self.block_size + self._owed
            )
        except RetryableError as exc:
            if not self._cut_off:
                log.warning("shared rate budget unreachable; sending at the local share",
                            reason=str(exc), mps=self._local.rate)  # fmt: skip
            self._cut_off, self._next_ask = True, asked_at + RETRY_S
            return
        finally:
            self._asking = None
        if self._cut_off:
            log.info("shared rate budget reachable again")
        self._cut_off = False
        # valid while this replica, paced at the rate, spends what it holds, and lease_s more
        held = self._lease.left(asked_at) + grant.tokens
        self._lease.add(grant.tokens, asked_at, self._lease_s + held / self.rate)
        # a partial block: the others lease too; ask again once a share of a block accrued,
        # later the more this ask took and at a spread moment, so replicas asking in turn do
        # not settle in one order in which the first always takes what accrued
        self._repay(asked_at)
        partial = grant.tokens < self.block_size
        share = 1 + 3 * grant.tokens / self.block_size
        pause = self._lease_s / 2 * share * random.uniform(1.0, 1.1) if partial else 0.0
        self._next_ask = asked_at + max(grant.wait_s, pause)

    def spent_elsewhere(self, now: float) -> None:
        """A message the number sent without dispatch (an echo) used one of the number's
        tokens: one this replica holds goes unspent, or one more is asked for with the next
        lease and not spent (at most a burst is owed, as a bucket is at most a burst in debt:
        Meta's own limit answers anything beyond)."""
        if self._lease.take(now):
            return
        if self._cut_off:
            self._local.spend(now)
            return
        self._owed = min(self._owed + 1, max(1, int(self.burst)))

    def _repay(self, now: float) -> None:
        while self._owed and self._lease.take(now):
            self._owed -= 1

    def take(self, now: float) -> bool:
        """Spend one token; False when none is in hand (the send waits)."""
        self._repay(now)
        if self._lease.take(now):
            return True
        return self._cut_off and self._local.try_take(now)

    def throttled(self, now: float, seconds: float) -> None:
        """Meta said 130429: this replica drops its lease and blocks the shared row."""
        self._lease.drop()
        self._local.block(now, seconds)
        self._next_ask = max(self._next_ask, now + seconds)
        task = asyncio.create_task(self._block(seconds))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _block(self, seconds: float) -> None:
        try:
            await self._budget.block(self.phone_number_id, seconds)
        except RetryableError as exc:
            log.warning("cannot block the shared rate budget", reason=str(exc))
