"""A status that finds no intent is kept for its wamid, and the send that records the wamid takes
what was kept for it. On the PostgreSQL ledger, statuses racing their sends in every order are
each applied once, and none is left kept for a wamid that is recorded."""

from __future__ import annotations

import asyncio
import random
from pathlib import Path

import pytest

from services.dispatch.app import MIGRATIONS
from services.dispatch.ledger import Change, LedgerState, NewIntent
from services.dispatch.statuses import Statuses
from services.dispatch.store import PostgresLedger
from shared import db
from shared.settings import PostgresSettings
from tests.services.dispatch.conftest import Reporting, reported

pytestmark = pytest.mark.postgres


async def test_statuses_racing_their_sends_are_each_applied_and_none_is_left_kept(
    fresh_database: str,
) -> None:
    pool = await db.create_pool(PostgresSettings(url=fresh_database))  # type: ignore[arg-type]
    try:
        await db.migrate(pool, "dispatch", Path(MIGRATIONS))
        ledger = PostgresLedger(pool)
        base = Reporting.make(ledger)  # type: ignore[arg-type]
        statuses = Statuses(
            base.ledger, base.transitions, base.reporter, base.metrics, base.handback
        )
        ids = [f"i-{n}" for n in range(150)]
        for intent_id in ids:
            await ledger.claim(
                NewIntent(intent_id, "pn-1", "16505551234", {}, LedgerState.QUEUED, "{}")
            )
            await ledger.start_attempt(intent_id)
        rng = random.Random(7)

        async def send(intent_id: str) -> None:  # as the sender does with Meta's answer
            await asyncio.sleep(rng.random() * 0.02)
            await ledger.record(
                intent_id, LedgerState.ACCEPTED, expect=LedgerState.SENDING,
                change=Change(wamid=f"wamid.{intent_id}"),
            )  # fmt: skip
            await statuses.apply_early(f"wamid.{intent_id}")

        async def status(intent_id: str) -> None:  # no callback data: found by wamid only
            await asyncio.sleep(rng.random() * 0.02)
            await statuses.on_status(reported(None, f"wamid.{intent_id}", "delivered"), None)

        await asyncio.gather(*(f(i) for i in ids for f in (send, status)))

        kept = await pool.fetchval("SELECT count(*) FROM dispatch_early_statuses")
        rows = [await ledger.get(i) for i in ids]
        assert kept == 0
        assert [row.state if row else None for row in rows] == ["delivered"] * len(ids)
        assert all(base.published.states(i)[-1:] == ["delivered"] for i in ids)
    finally:
        await pool.close()
