"""The idempotency ledger and queue against a real PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import pytest

from services.dispatch.app import MIGRATIONS
from services.dispatch.ledger import NewIntent
from services.dispatch.store import PostgresLedger
from shared import db
from shared.settings import PostgresSettings

pytestmark = pytest.mark.postgres


@pytest.fixture
async def ledger(fresh_database: str) -> AsyncIterator[PostgresLedger]:
    pool = await db.create_pool(PostgresSettings(url=fresh_database))  # type: ignore[arg-type]
    await db.migrate(pool, "dispatch", Path(MIGRATIONS))
    yield PostgresLedger(pool)
    await pool.close()


def _new(intent_id: str, state: str = "queued", number: str = "pn") -> NewIntent:
    return NewIntent(intent_id, number, "+1 650", {"order": "42"}, state, '{"x": 1}', "reply")


async def test_an_intent_is_claimed_once(ledger: PostgresLedger) -> None:
    row, fresh = await ledger.claim(_new("i-1"))
    assert fresh and row.state == "queued" and row.attempts == 0 and row.priority == "reply"
    again, fresh_again = await ledger.claim(_new("i-1", "rejected"))
    assert not fresh_again and again.state == "queued"


async def test_an_attempt_is_started_once_and_counted(ledger: PostgresLedger) -> None:
    await ledger.claim(_new("i-2"))
    started = await ledger.start_attempt("i-2")
    assert started is not None and started.state == "sending" and started.attempts == 1
    assert started.decision is not None and started.metadata == {"order": "42"}
    assert await ledger.start_attempt("i-2") is None  # a second replica gets nothing


async def test_a_retry_queues_again_with_its_time_and_a_hold_refunds_the_attempt(
    ledger: PostgresLedger,
) -> None:
    await ledger.claim(_new("i-3"))
    await ledger.start_attempt("i-3")
    at = datetime.now(UTC) + timedelta(seconds=5)
    row = await ledger.record(
        "i-3", "queued", expect="sending", error={"code": 130429}, next_attempt_at=at
    )
    assert row is not None and row.next_attempt_at == at
    assert [r.intent_id for r in await ledger.queued("pn")] == ["i-3"]
    assert await ledger.queued("other") == []
    again = await ledger.start_attempt("i-3")
    assert again is not None and again.attempts == 2
    held = await ledger.record("i-3", "queued", expect="sending", refund_attempt=True)
    assert held is not None and held.attempts == 1


async def test_a_state_change_from_the_wrong_state_is_refused(ledger: PostgresLedger) -> None:
    await ledger.claim(_new("i-4"))
    assert await ledger.record("i-4", "accepted", expect="sending") is None
    row = await ledger.get("i-4")
    assert row is not None and row.state == "queued"


async def test_wamid_lookup_and_reporting(ledger: PostgresLedger) -> None:
    await ledger.claim(_new("i-5"))
    await ledger.start_attempt("i-5")
    await ledger.record("i-5", "accepted", wamid="wamid.A")
    row = await ledger.by_wamid("wamid.A")
    assert row is not None and row.intent_id == "i-5" and row.reported is None
    later = datetime.now(UTC) + timedelta(seconds=1)
    assert [r.intent_id for r in await ledger.unreported(later)] == ["i-5"]
    await ledger.mark_reported("i-5", "accepted")
    assert await ledger.unreported(later) == []


async def test_a_wamid_belongs_to_one_intent(ledger: PostgresLedger) -> None:
    await ledger.claim(_new("i-6"))
    await ledger.claim(_new("i-7"))
    await ledger.record("i-6", "accepted", wamid="wamid.B")
    with pytest.raises(asyncpg.UniqueViolationError):
        await ledger.record("i-7", "accepted", wamid="wamid.B")


async def test_stale_rows_and_early_statuses(ledger: PostgresLedger) -> None:
    await ledger.claim(_new("i-8"))
    await ledger.start_attempt("i-8")
    soon = datetime.now(UTC) + timedelta(seconds=1)
    assert [r.intent_id for r in await ledger.stale("sending", soon)] == ["i-8"]
    assert await ledger.stale("sending", soon - timedelta(minutes=1)) == []
    await ledger.keep_status("wamid.C", "delivered", '{"a": 1}')
    await ledger.keep_status("wamid.C", "delivered", '{"a": 2}')  # a duplicate is ignored
    await ledger.keep_status("wamid.C", "read", '{"a": 3}')
    assert len(await ledger.take_statuses("wamid.C")) == 2
    assert await ledger.take_statuses("wamid.C") == []
    await ledger.keep_status("wamid.D", "sent", "{}")
    await ledger.forget_statuses(soon)
    assert await ledger.take_statuses("wamid.D") == []
