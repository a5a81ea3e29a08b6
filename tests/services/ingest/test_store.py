"""The dedupe memory's contract, run against PostgreSQL (and the in-memory fake where it applies):
claims, completion, release, lease takeover, expiry, and survival across restarts."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import asyncpg
import pytest

from services.ingest.app import MIGRATIONS
from services.ingest.handlers import Dedupe
from services.ingest.store import Claim, SeenEvents
from shared import db
from shared.errors import RetryableError
from shared.settings import PostgresSettings
from tests.services.ingest.fakes import InMemoryDedupe

pytestmark = pytest.mark.postgres


@pytest.fixture
async def pool(fresh_database: str) -> AsyncIterator[asyncpg.Pool]:
    pool = await db.create_pool(PostgresSettings(url=fresh_database, max_size=4))
    await db.migrate(pool, "ingest", MIGRATIONS)
    yield pool
    await pool.close()


@pytest.fixture(params=["postgres", "fake"])
def seen(request: pytest.FixtureRequest) -> Dedupe:
    if request.param == "fake":
        return InMemoryDedupe()
    return SeenEvents(request.getfixturevalue("pool"), lease_s=60)


async def test_new_ids_are_mine_then_done_after_completion(seen: Dedupe) -> None:
    assert await seen.claim(["a", "b", "a"]) == Claim(mine=frozenset({"a", "b"}))
    await seen.complete(["a", "b"])

    assert await seen.claim(["a", "b", "c"]) == Claim(
        mine=frozenset({"c"}), done=frozenset({"a", "b"})
    )


async def test_a_claim_in_flight_is_busy_for_others_until_released(seen: Dedupe) -> None:
    await seen.claim(["a"])

    assert await seen.claim(["a"]) == Claim(busy=frozenset({"a"}))
    await seen.release(["a"])
    assert await seen.claim(["a"]) == Claim(mine=frozenset({"a"}))


async def test_release_never_forgets_what_was_published(seen: Dedupe) -> None:
    await seen.claim(["a"])
    await seen.complete(["a"])
    await seen.release(["a"])

    assert await seen.claim(["a"]) == Claim(done=frozenset({"a"}))


async def test_a_stale_claim_is_taken_over_after_its_lease(pool: asyncpg.Pool) -> None:
    first, second = SeenEvents(pool, lease_s=0.2), SeenEvents(pool, lease_s=0.2)
    await first.claim(["a"])
    assert await second.claim(["a"]) == Claim(busy=frozenset({"a"}))

    await asyncio.sleep(0.3)

    assert await second.claim(["a"]) == Claim(mine=frozenset({"a"}))


async def test_the_memory_survives_a_restart(fresh_database: str) -> None:
    settings = PostgresSettings(url=fresh_database, max_size=2)
    for attempt in range(2):
        pool = await db.create_pool(settings)
        await db.migrate(pool, "ingest", MIGRATIONS)
        seen = SeenEvents(pool, lease_s=60)
        claim = await seen.claim(["wamid.1"])
        if attempt == 0:
            assert claim.mine == {"wamid.1"}
            await seen.complete(["wamid.1"])
        else:
            assert claim == Claim(done=frozenset({"wamid.1"}))
        await pool.close()


async def test_old_keys_expire_and_recent_ones_stay(pool: asyncpg.Pool) -> None:
    seen = SeenEvents(pool, lease_s=60)
    await seen.claim(["old", "new"])
    await seen.complete(["old", "new"])
    await pool.execute(
        "UPDATE ingest_seen_events SET claimed_at = now() - interval '9 days'"
        " WHERE event_id = 'old'"
    )

    assert await seen.expire(8 * 24 * 3600) == 1

    assert await seen.claim(["old", "new"]) == Claim(
        mine=frozenset({"old"}), done=frozenset({"new"})
    )


async def test_concurrent_claims_of_the_same_ids_give_each_id_to_one(pool: asyncpg.Pool) -> None:
    seen = SeenEvents(pool, lease_s=60)
    ids = [f"id{i}" for i in range(50)]
    replicas = [SeenEvents(pool, lease_s=60) for _ in range(3)]  # each its own statements

    claims = await asyncio.gather(*(s.claim(ids) for s in [seen, seen, *replicas]))

    owners = [i for c in claims for i in c.mine]
    assert sorted(owners) == sorted(ids)


async def test_an_unreachable_database_is_retryable(pool: asyncpg.Pool) -> None:
    seen = SeenEvents(pool, lease_s=60)
    await pool.close()

    with pytest.raises(RetryableError):
        await seen.claim(["a"])


async def test_one_claim_sorts_published_in_flight_and_new_ids(seen: Dedupe) -> None:
    await seen.claim(["published"])
    await seen.complete(["published"])
    await seen.claim(["in-flight"])
    claim = await seen.claim(["new", "published", "in-flight", "new"])
    assert claim == Claim(
        mine=frozenset({"new"}), done=frozenset({"published"}), busy=frozenset({"in-flight"})
    )


async def test_a_claim_is_one_statement(fresh_database: str) -> None:
    single = await db.create_pool(PostgresSettings(url=fresh_database, max_size=1))
    sent: list[str] = []
    try:
        await db.migrate(single, "ingest", MIGRATIONS)
        async with single.acquire() as conn:  # the pool's only connection logs what it runs
            conn.add_query_logger(lambda query: sent.append(query.query))
        claim = await SeenEvents(single, lease_s=60).claim(["a", "b", "c"])
    finally:
        await single.close()
    assert claim.mine == {"a", "b", "c"}
    assert len(sent) == 1, sent  # no transaction around it, no second read


async def test_concurrent_webhooks_claim_and_complete_in_one_statement_each(
    fresh_database: str,
) -> None:
    single = await db.create_pool(PostgresSettings(url=fresh_database, max_size=1))
    sent: list[str] = []
    try:
        await db.migrate(single, "ingest", MIGRATIONS)
        async with single.acquire() as conn:
            conn.add_query_logger(lambda query: sent.append(query.query))
        seen = SeenEvents(single, lease_s=60)
        webhooks = [[f"w{n}-a", f"w{n}-b"] for n in range(20)]
        claims = await asyncio.gather(*(seen.claim(ids) for ids in webhooks))
        assert [c.mine for c in claims] == [frozenset(ids) for ids in webhooks]
        await asyncio.gather(*(seen.complete(ids) for ids in webhooks))
        assert len(sent) == 2, sent
        again = await asyncio.gather(seen.claim(["w0-a", "new"]), seen.claim(["new", "w1-b"]))
    finally:
        await single.close()
    # a repeated id keeps the two webhooks apart: the first takes it, the second finds it busy
    assert again[0] == Claim(mine=frozenset({"new"}), done=frozenset({"w0-a"}))
    assert again[1] == Claim(done=frozenset({"w1-b"}), busy=frozenset({"new"}))
