"""The idempotency ledger against a real PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest

from services.dispatch.app import MIGRATIONS
from services.dispatch.store import Ledger
from shared import db
from shared.settings import PostgresSettings

pytestmark = pytest.mark.postgres


@pytest.fixture
async def ledger(fresh_database: str) -> AsyncIterator[Ledger]:
    pool = await db.create_pool(PostgresSettings(url=fresh_database))  # type: ignore[arg-type]
    await db.migrate(pool, "dispatch", Path(MIGRATIONS))
    yield Ledger(pool)
    await pool.close()


async def test_an_intent_is_claimed_once(ledger: Ledger) -> None:
    row, fresh = await ledger.claim("i-1", "pn", "+1 650", {"order": "42"}, "sending")
    assert fresh and row.state == "sending" and row.attempts == 1
    again, fresh_again = await ledger.claim("i-1", "pn", "+1 650", {"order": "42"}, "sending")
    assert not fresh_again and again.state == "sending"


async def test_a_retry_is_claimed_again_with_one_more_attempt(ledger: Ledger) -> None:
    await ledger.claim("i-2", "pn", "1", {}, "sending")
    await ledger.record("i-2", "retry", error={"code": 130429})
    row, fresh = await ledger.claim("i-2", "pn", "1", {}, "sending")
    assert fresh and row.attempts == 2 and row.state == "sending"


async def test_a_rejected_intent_is_never_sent_later(ledger: Ledger) -> None:
    await ledger.claim("i-3", "pn", "1", {}, "rejected")
    row, fresh = await ledger.claim("i-3", "pn", "1", {}, "sending")
    assert not fresh and row.state == "rejected"


async def test_wamid_lookup_and_metadata(ledger: Ledger) -> None:
    await ledger.claim("i-4", "pn", "1", {"order": "42"}, "sending")
    await ledger.record("i-4", "accepted", wamid="wamid.A")
    row = await ledger.by_wamid("wamid.A")
    assert row is not None and row.intent_id == "i-4" and row.metadata == {"order": "42"}
    await ledger.record("i-4", "delivered")
    after = await ledger.get("i-4")
    assert after is not None and after.wamid == "wamid.A" and after.state == "delivered"


async def test_a_wamid_belongs_to_one_intent(ledger: Ledger) -> None:
    await ledger.claim("i-5", "pn", "1", {}, "sending")
    await ledger.claim("i-6", "pn", "1", {}, "sending")
    await ledger.record("i-5", "accepted", wamid="wamid.B")
    with pytest.raises(asyncpg.UniqueViolationError):
        await ledger.record("i-6", "accepted", wamid="wamid.B")
