"""The ledger's writes under concurrent sends (`store.PostgresLedger` on a fresh database):
the sends of one moment share one statement per kind of write, and each still gets exactly
what it would alone (one attempt per intent, a wamid refused only to the intent that repeats
it, early statuses handed out once)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from services.dispatch.app import MIGRATIONS
from services.dispatch.ledger import Change, LedgerState, NewIntent
from services.dispatch.store import PostgresLedger
from shared import db
from shared.settings import PostgresSettings

pytestmark = pytest.mark.postgres
QUEUED, SENDING, ACCEPTED = LedgerState.QUEUED, LedgerState.SENDING, LedgerState.ACCEPTED


class CountingPool:
    """The pool, counting the statements sent through it."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool
        self.statements = 0

    async def fetch(self, sql: str, *args: Any) -> list[asyncpg.Record]:
        self.statements += 1
        rows: list[asyncpg.Record] = await self.pool.fetch(sql, *args)
        return rows


@pytest.fixture
async def counted(fresh_database: str) -> AsyncIterator[tuple[PostgresLedger, CountingPool]]:
    pool = await db.create_pool(PostgresSettings(url=fresh_database))  # type: ignore[arg-type]
    await db.migrate(pool, "dispatch", Path(MIGRATIONS))
    counting = CountingPool(pool)
    yield PostgresLedger(counting), counting  # type: ignore[arg-type]
    await pool.close()


async def _claimed(ledger: PostgresLedger, count: int) -> list[str]:
    ids = [f"i-{n}" for n in range(count)]
    for intent_id in ids:
        await ledger.claim(NewIntent(intent_id, "pn", f"+1 650 {intent_id}", {}, QUEUED, "{}"))
    return ids


async def test_the_writes_of_concurrent_sends_are_one_statement_each(
    counted: tuple[PostgresLedger, CountingPool],
) -> None:
    ledger, pool = counted
    ids = await _claimed(ledger, 40)
    pool.statements = 0
    started = await asyncio.gather(*(ledger.start_attempt(i) for i in ids))
    assert [row.intent_id if row else None for row in started] == ids
    assert all(row and row.state == SENDING and row.attempts == 1 for row in started)
    moved = await asyncio.gather(
        *(ledger.record(i, ACCEPTED, expect=SENDING, change=Change(wamid=f"w.{i}")) for i in ids)
    )
    assert [(row.wamid, row.state) if row else None for row in moved] == [
        (f"w.{i}", ACCEPTED) for i in ids
    ]
    await asyncio.gather(*(ledger.mark_reported(i, ACCEPTED) for i in ids))
    taken = await asyncio.gather(*(ledger.take_statuses(f"w.{i}") for i in ids))
    assert taken == [[] for _ in ids]
    assert pool.statements == 4  # start, record, mark, take: one each for the forty sends
    rows = [await ledger.get(i) for i in ids]
    assert all(
        row and row.reported == ACCEPTED and row.wamid == f"w.{row.intent_id}" for row in rows
    )


async def test_an_intent_started_twice_at_once_is_started_once(
    counted: tuple[PostgresLedger, CountingPool],
) -> None:
    ledger, _ = counted
    (intent_id,) = await _claimed(ledger, 1)
    first, second = await asyncio.gather(
        ledger.start_attempt(intent_id), ledger.start_attempt(intent_id)
    )
    assert first is not None and first.attempts == 1 and second is None


async def test_a_repeated_wamid_is_refused_only_to_the_intent_that_repeats_it(
    counted: tuple[PostgresLedger, CountingPool],
) -> None:
    ledger, _ = counted
    a, b, c = await _claimed(ledger, 3)
    await ledger.record(a, ACCEPTED, change=Change(wamid="w.taken"))
    results = await asyncio.gather(
        ledger.record(b, ACCEPTED, change=Change(wamid="w.taken")),
        ledger.record(c, ACCEPTED, change=Change(wamid="w.own")),
        return_exceptions=True,
    )
    assert isinstance(results[0], asyncpg.UniqueViolationError)
    assert not isinstance(results[1], BaseException) and results[1] is not None
    assert results[1].wamid == "w.own"
    refused = await ledger.get(b)
    assert refused is not None and refused.state == QUEUED and refused.wamid is None


async def test_a_wrong_expected_state_and_a_state_change_in_one_batch(
    counted: tuple[PostgresLedger, CountingPool],
) -> None:
    ledger, _ = counted
    a, b = await _claimed(ledger, 2)
    later = await ledger.record(a, QUEUED, change=Change(error={"code": 1}, refund_attempt=True))
    assert later is not None
    wrong, moved = await asyncio.gather(
        ledger.record(a, ACCEPTED, expect=SENDING),
        ledger.record(b, SENDING, expect=QUEUED, change=Change(supersede="w.old")),
    )
    assert wrong is None
    assert moved is not None and moved.state == SENDING and moved.superseded == ("w.old",)
    kept = await ledger.get(a)
    assert kept is not None and kept.attempts == -1 and kept.state == QUEUED


async def test_early_statuses_are_handed_out_once_to_concurrent_takers(
    counted: tuple[PostgresLedger, CountingPool],
) -> None:
    ledger, _ = counted
    await ledger.keep_status("w.1", "sent", '{"s": "sent"}')
    await ledger.keep_status("w.1", "delivered", '{"s": "delivered"}')
    await ledger.keep_status("w.2", "read", '{"s": "read"}')
    one, again, two = await asyncio.gather(
        ledger.take_statuses("w.1"), ledger.take_statuses("w.1"), ledger.take_statuses("w.2")
    )
    assert sorted(one) == ['{"s": "delivered"}', '{"s": "sent"}'] and again == []
    assert two == ['{"s": "read"}']


async def test_a_batch_of_claims_is_one_statement_and_a_repeat_finds_the_row(
    counted: tuple[PostgresLedger, CountingPool],
) -> None:
    ledger, pool = counted
    news = [NewIntent(f"c-{n}", "pn", f"1650555{n:04d}", {"n": str(n)}, QUEUED, "{}")
            for n in range(30)]  # fmt: skip
    claimed = await ledger.claim_many(news)
    assert pool.statements == 1
    assert [(row.intent_id, fresh) for row, fresh in claimed] == [(n.intent_id, True) for n in news]
    assert [row.metadata for row, _ in claimed] == [{"n": str(n)} for n in range(30)]
    await ledger.record("c-3", SENDING, expect=QUEUED)
    pool.statements = 0
    again = await ledger.claim_many([news[3], NewIntent("c-new", "pn", "1", {}, QUEUED), news[4]])
    assert pool.statements == 2  # the insert, then the rows it found
    assert [(r.intent_id, r.state, fresh) for r, fresh in again] == [
        ("c-3", SENDING, False), ("c-new", QUEUED, True), ("c-4", QUEUED, False),
    ]  # fmt: skip
