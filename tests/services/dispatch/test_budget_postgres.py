"""The budget dispatch replicas share (`budget.PostgresBudget` on a fresh database): leases
refill by the server's time and never grant more than the bucket holds, however many ask at
once; a 130429 blocks the row for everyone; a lost server is an error to retry."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest

from services.dispatch.app import MIGRATIONS
from services.dispatch.backpressure import Backpressure
from services.dispatch.budget import BudgetUnavailable, PostgresBudget
from services.dispatch.metrics import DispatchMetrics
from services.dispatch.rates import most_in_a_second
from services.dispatch.sender import Senders
from services.dispatch.settings import DispatchSettings
from shared import db
from shared.metrics import new_registry
from shared.settings import PostgresSettings
from tests.conftest import free_port
from tests.services.dispatch.fakes import FakeClock, FakeConsumer
from tests.services.dispatch.test_sender import Parts, Work

pytestmark = pytest.mark.postgres


@pytest.fixture
async def pool(fresh_database: str) -> AsyncIterator[asyncpg.Pool]:
    pool = await db.create_pool(PostgresSettings(url=fresh_database, max_size=12))  # type: ignore[arg-type]
    await db.migrate(pool, "dispatch", Path(MIGRATIONS))
    yield pool
    await pool.close()


async def test_a_new_number_starts_with_its_burst_and_then_gets_only_what_accrued(
    pool: asyncpg.Pool,
) -> None:
    budget = PostgresBudget(pool)
    first = await budget.lease("pn-1", 20.0, 5.0, 10)
    assert first.tokens == 5  # full at first, never more than the burst
    started = time.monotonic()
    empty = await budget.lease("pn-1", 20.0, 5.0, 10)
    assert empty.tokens == 0 and 0 < empty.wait_s <= 1 / 20
    await asyncio.sleep(0.2)
    later = await budget.lease("pn-1", 20.0, 5.0, 10)
    accrued = (time.monotonic() - started) * 20
    assert 3 <= later.tokens <= min(5, accrued + 1)
    assert (await budget.lease("pn-2", 20.0, 5.0, 2)).tokens == 2  # numbers apart


async def test_replicas_leasing_at_once_never_get_more_than_rate_times_time_plus_burst(
    pool: asyncpg.Pool,
) -> None:
    budget, rate, burst = PostgresBudget(pool), 200.0, 10.0
    granted = 0

    async def replica() -> None:
        nonlocal granted
        deadline = time.monotonic() + 1.5
        while time.monotonic() < deadline:
            grant = await budget.lease("pn-1", rate, burst, 10)
            granted += grant.tokens

    started = time.monotonic()
    await asyncio.gather(*(replica() for _ in range(6)))
    elapsed = time.monotonic() - started
    assert granted <= rate * elapsed + burst
    assert granted >= rate * 1.5 * 0.9  # six eager replicas leave nothing unclaimed


async def test_meta_s_throttle_blocks_every_replica_until_it_passes(pool: asyncpg.Pool) -> None:
    budget = PostgresBudget(pool)
    await budget.lease("pn-1", 100.0, 10.0, 10)
    await budget.block("pn-1", 0.4)
    await asyncio.sleep(0.2)  # tokens accrue, but the block holds
    held = await budget.lease("pn-1", 100.0, 10.0, 10)
    assert held.tokens == 0 and 0.1 < held.wait_s <= 0.2 + 0.05
    await asyncio.sleep(held.wait_s + 0.05)
    assert (await budget.lease("pn-1", 100.0, 10.0, 10)).tokens >= 1
    await budget.block("pn-unknown", 1.0)  # a number never leased: nothing to block


async def test_a_new_rate_applies_from_the_next_lease(pool: asyncpg.Pool) -> None:
    budget = PostgresBudget(pool)
    await budget.lease("pn-1", 10.0, 50.0, 50)  # the burst taken: the row is empty
    await budget.lease("pn-1", 1000.0, 50.0, 50)  # Meta's upgrade: the rate from now on
    await asyncio.sleep(0.03)
    assert (await budget.lease("pn-1", 1000.0, 50.0, 50)).tokens >= 20


async def test_an_unreachable_server_is_retryable() -> None:
    down = await asyncpg.create_pool(
        f"postgresql://wagate:wagate@127.0.0.1:{free_port()}/x", min_size=0
    )
    with pytest.raises(BudgetUnavailable):
        await PostgresBudget(down).lease("pn-1", 10.0, 1.0, 1)
    await down.close()


async def _replica(budget: PostgresBudget, settings: DispatchSettings, count: int) -> Parts:
    """One replica's senders over its own scripted work, `count` intents queued for pn-1."""
    work, consumer, clock = Work(), FakeConsumer(assigned={"p0"}), FakeClock()
    metrics = DispatchMetrics(new_registry())
    backpressure = Backpressure(consumer, 10**6, 10**6, metrics.paused)
    senders = Senders(settings, work, backpressure, metrics, clock, budget=budget)
    parts = Parts(work, consumer, backpressure, clock, senders)
    for n in range(count):
        parts.submit(f"i-{id(parts)}-{n}")
    return parts


SHARED = DispatchSettings.model_validate(
    {"rates": {"default_mps": 100, "headroom": 0, "pair_interval_s": 0.001, "pair_burst": 50}}
)


async def test_three_replicas_senders_send_the_number_s_rate_together(pool: asyncpg.Pool) -> None:
    budget = PostgresBudget(pool)
    replicas = [await _replica(budget, SHARED, 150) for _ in range(3)]
    await asyncio.sleep(2.0)
    times = sorted(at for r in replicas for _, at in r.work.attempted)
    for r in replicas:
        await r.senders.close()
    first = times[0]
    steady = [t for t in times if first + 0.5 <= t < first + 1.5]
    burst = replicas[0].senders.get("pn-1").shared.burst  # type: ignore[union-attr]
    assert 90 <= len(steady) <= 100 + burst  # the rate, and what the shared row saves up
    for start in times:  # no second carries more than that and the leases' slack
        assert sum(start <= t < start + 1 for t in times) <= most_in_a_second(100, 0.05)
    assert all(len(r.work.attempted) > 30 for r in replicas)  # each replica sent its part


async def test_a_throttle_one_replica_met_holds_the_others_back(pool: asyncpg.Pool) -> None:
    budget = PostgresBudget(pool)
    one = await _replica(budget, SHARED, 1)
    await one.until(lambda: one.work.attempted)
    one.senders.get("pn-1").shared.throttled(time.monotonic(), 0.5)  # type: ignore[union-attr]
    await asyncio.sleep(0.05)  # the row is blocked
    blocked_at = time.monotonic()
    other = await _replica(budget, SHARED, 3)
    await other.until(lambda: len(other.work.attempted) == 3)
    assert other.work.attempted[0][1] - blocked_at >= 0.4
    for r in (one, other):
        await r.senders.close()
