"""The read model's store on a real PostgreSQL: a batch written twice changes nothing, a
customer is found by every identifier, retention forgets old rows but keeps each template's
and account's latest state, and it keeps up with a steady stream of records."""

from __future__ import annotations

import time
from datetime import timedelta

import asyncpg
import pytest

from services.console.queries import Queries
from services.console.store import ReadModelStore
from tests.services.console import facts

pytestmark = pytest.mark.postgres
TABLES = ("console_intents", "console_decisions", "console_deliveries", "console_windows",
          "console_consent", "console_inbound", "console_template_states",
          "console_account_updates", "console_dead_letters", "console_identities",
          "console_customers")  # fmt: skip


async def _counts(pool: asyncpg.Pool) -> dict[str, int]:
    return {t: await pool.fetchval(f"SELECT count(*) FROM {t}") for t in TABLES}


async def test_a_batch_written_twice_changes_nothing(pool: asyncpg.Pool) -> None:
    store = ReadModelStore(pool)
    events = [*facts.story(), facts.otp()]
    record = facts.dead_intent_record("dl", facts.otp("dead-1"), source="wagate.intents.v1")
    await store.write(facts.batch_of(events, [record]))
    first = await _counts(pool)
    await store.write(facts.batch_of(events, [record]))
    assert await _counts(pool) == first
    assert first["console_intents"] == 3  # seen again in their decisions: no second row
    assert first["console_customers"] == 2


async def test_retention_forgets_old_rows_and_keeps_current_state(pool: asyncpg.Pool) -> None:
    store = ReadModelStore(pool)
    await store.write(facts.batch_of(facts.story()))
    deleted = await store.forget_before(facts.at(5))  # after the window, before the intents
    assert deleted["console_windows"] == 1 and deleted["console_inbound"] == 1
    assert deleted["console_template_states"] == 1  # PENDING goes, the latest APPROVED stays
    assert deleted["console_account_updates"] == 0  # the account's only update stays
    left = await _counts(pool)
    assert left["console_template_states"] == 1 and left["console_intents"] == 2
    everything = await store.forget_before(facts.at(10**6))
    assert everything["console_intents"] == 2
    assert (await _counts(pool))["console_template_states"] == 1


async def test_queries_find_customers_by_identifier_and_name(pool: asyncpg.Pool) -> None:
    store, queries = ReadModelStore(pool), Queries(pool)
    await store.write(facts.batch_of(facts.story()))
    for query in (facts.CUSTOMER, "+1 (650) 555-1234", "Maria", "maria"):
        _, customers = await queries.search(query)
        assert [c["customer"] for c in customers] == [facts.CUSTOMER], query
    customer_id = await queries.customer_id(facts.CUSTOMER)
    assert customer_id is not None
    found = await queries.customer(customer_id, facts.at(3600))
    assert found is not None and found["windows"][0]["opened_by"] == "text"
    assert found["numbers"] == [facts.NUMBER]


async def test_it_keeps_up_with_a_steady_stream(pool: asyncpg.Pool) -> None:
    """2,000 intents with a decision and three updates each, written 500 records at a time."""
    store = ReadModelStore(pool)
    events = []
    for i in range(2000):
        intent = facts.reply(f"bulk-{i}").model_copy(
            update={"to": f"1650555{i:04d}", "occurred_at": facts.at(i)}
        )
        events += [intent, facts.decided(intent, "approved", [], i + 0.1)]
        events += [facts.updated(intent, s, i + 0.2 + n / 10, wamid=f"wamid.{i}")
                   for n, s in enumerate(("accepted", "sent", "delivered"))]  # fmt: skip
    started = time.perf_counter()
    for start in range(0, len(events), 500):
        await store.write(facts.batch_of(events[start : start + 500]))
    elapsed = time.perf_counter() - started
    rate = len(events) / elapsed
    print(f"read model: {len(events)} records in {elapsed:.2f} s = {rate:.0f} records/s")
    assert (await _counts(pool))["console_deliveries"] == 6000
    assert rate > 1000, f"{rate:.0f} records/s"
    assert timedelta(seconds=elapsed) < timedelta(seconds=60)
