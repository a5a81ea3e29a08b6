"""Charges on PostgreSQL, through dispatch's statuses: each wamid counted once (its sent and
delivered statuses, redeliveries, out of order), added up by `GET /spend` and `wagate spend`."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from click.testing import CliRunner, Result

from cli.main import main
from services.dispatch.app import MIGRATIONS
from services.dispatch.charges_store import PostgresCharges
from services.dispatch.ledger import Change, LedgerState, NewIntent
from services.dispatch.statuses import Statuses
from services.dispatch.web import spend_handler
from shared import codec, db
from shared.events.envelope import utcnow
from shared.events.intents import TemplateContent
from shared.settings import PostgresSettings
from tests.services.dispatch.conftest import Reporting, approved, reported, serving
from tests.services.dispatch.test_charges import FREE
from tests.services.dispatch.test_charges import PAID as UTILITY
from tests.services.dispatch.test_statuses_together import fed

pytestmark = pytest.mark.postgres

PAID = {**UTILITY, "category": "marketing"}


class Book:
    def __init__(self, charges: PostgresCharges) -> None:
        self.charges = charges
        self.base = Reporting.make()
        base = self.base
        self.statuses = Statuses(
            base.ledger, base.transitions, base.reporter, base.metrics, base.handback, charges
        )

    async def sent(self, intent_id: str, wamid: str, template: str | None = None) -> None:
        content = TemplateContent(name=template, language="en_US") if template else None
        decision = approved(intent_id, content=content) if content else approved(intent_id)
        body = codec.encode(decision).decode()
        new = NewIntent(intent_id, "pn-1", "16505551234", {}, LedgerState.QUEUED, body)
        await self.base.ledger.claim(new)
        await self.base.ledger.record(intent_id, LedgerState.ACCEPTED)
        await self.base.ledger.record(intent_id, LedgerState.ACCEPTED, change=Change(wamid=wamid))

    async def status(self, intent_id: str, wamid: str, state: str, pricing: object) -> None:
        status = reported(intent_id, wamid, state, pricing=pricing)
        await self.statuses.on_status(status, None)  # type: ignore[arg-type]

    def counted(self, **labels: str) -> float | None:
        return self.base.sample("wagate_dispatch_priced_messages_total", **labels)


@pytest.fixture
async def book(fresh_database: str) -> AsyncIterator[Book]:
    pool = await db.create_pool(PostgresSettings(url=fresh_database))  # type: ignore[arg-type]
    await db.migrate(pool, "dispatch", Path(MIGRATIONS))
    try:
        yield Book(PostgresCharges(pool))
    finally:
        await pool.close()


async def test_a_message_is_counted_once_when_delivered(book: Book) -> None:
    await book.sent("i-1", "wamid.A", "flash")
    await book.status("i-1", "wamid.A", "sent", PAID)
    labels = {
        "phone_number_id": "pn-1",
        "template": "flash",
        "category": "marketing",
        "type": "regular",
    }
    assert book.counted(**labels) is None  # sent is no charge yet
    await book.status("i-1", "wamid.A", "delivered", PAID)
    await book.status("i-1", "wamid.A", "delivered", PAID)  # redelivered
    await book.status("i-1", "wamid.A", "sent", FREE)  # late and out of order: changes nothing
    await book.status("i-1", "wamid.A", "read", None)
    assert book.counted(**labels) == 1
    rows = await book.charges.spend(None, None)
    assert rows == [
        {
            "phone_number_id": "pn-1",
            "template": "flash",
            "category": "marketing",
            "type": "regular",
            "messages": 1,
            "delivered": 1,
            "charged": 1,
        },
    ]


async def test_spend_adds_up_per_template_and_category_within_the_period(book: Book) -> None:
    await book.sent("i-1", "wamid.A", "flash")
    await book.sent("i-2", "wamid.B", "flash")
    await book.sent("i-3", "wamid.C")
    await book.sent("i-4", "wamid.D", "flash")
    await book.status("i-1", "wamid.A", "delivered", PAID)
    await book.status("i-2", "wamid.B", "delivered", PAID)
    await book.status("i-3", "wamid.C", "delivered", FREE)
    await book.status("i-4", "wamid.D", "sent", PAID)  # never delivered: never charged
    rows = await book.charges.spend(None, None)
    counts = [
        (r["template"], r["category"], r["messages"], r["delivered"], r["charged"]) for r in rows
    ]
    assert counts == [
        ("", "service", 1, 1, 0),
        ("flash", "marketing", 3, 2, 2),
    ]
    later = utcnow() + timedelta(hours=1)
    assert await book.charges.spend(later, None) == []
    assert len(await book.charges.spend(None, later)) == 2


async def test_statuses_together_charge_each_wamid_once_in_one_statement(book: Book) -> None:
    await book.sent("i-1", "wamid.A", "flash")
    await book.sent("i-2", "wamid.B", "flash")
    await book.sent("i-3", "wamid.C")
    await book.status("i-2", "wamid.B", "delivered", PAID)  # counted already, one at a time
    batch = [
        reported("i-1", "wamid.A", "sent", pricing=FREE),
        reported("i-2", "wamid.B", "read", pricing=PAID),
        reported("i-1", "wamid.A", "delivered", pricing=PAID),
        reported("i-3", "wamid.C", "sent", pricing=PAID),
        reported("i-1", "wamid.A", "read", pricing=FREE),  # delivered priced it for good
    ]
    assert await book.statuses.on_statuses(fed(batch)) == [None] * 5
    labels = {"phone_number_id": "pn-1", "template": "flash", "category": "marketing"}
    assert book.counted(**labels, type="regular") == 2  # i-1 now, i-2 before: once each
    rows = await book.charges.spend(None, None)
    counts = [
        (r["template"], r["category"], r["messages"], r["delivered"], r["charged"]) for r in rows
    ]
    assert counts == [("", "marketing", 1, 0, 0), ("flash", "marketing", 2, 2, 2)]
    assert await book.statuses.on_statuses(fed(batch)) == [None] * 5  # redelivered
    assert book.counted(**labels, type="regular") == 2
    again = [reported("i-3", "wamid.C", "delivered", pricing=FREE)]
    assert await book.statuses.on_statuses(fed(again)) == [None]
    rows = await book.charges.spend(None, None)
    assert [(r["template"], r["category"], r["charged"]) for r in rows] == [
        ("", "service", 0), ("flash", "marketing", 2),
    ]  # fmt: skip


@pytest.fixture
async def dispatch_url(book: Book) -> AsyncIterator[str]:
    app = web.Application()
    app.router.add_get("/spend", spend_handler(book.charges))
    async with serving(app) as url:
        yield url


async def _wagate(*args: str) -> Result:
    return await asyncio.to_thread(
        CliRunner().invoke, main, ["--json", *args], catch_exceptions=False
    )


async def test_wagate_spend_shows_the_rows_and_totals(book: Book, dispatch_url: str) -> None:
    await book.sent("i-1", "wamid.A", "flash")
    await book.sent("i-2", "wamid.B")
    await book.status("i-1", "wamid.A", "delivered", PAID)
    await book.status("i-2", "wamid.B", "delivered", FREE)
    done = await _wagate("spend", "--dispatch-url", dispatch_url, "--since", "2020-01-01")
    assert done.exit_code == 0, done.output
    summary = json.loads(done.output)
    assert (summary["messages"], summary["delivered"], summary["charged"]) == (2, 2, 1)
    assert summary["since"] == "2020-01-01T00:00:00+00:00"
    assert {(r["template"], r["charged"]) for r in summary["rows"]} == {("flash", 1), ("", 0)}
    bad = await _wagate("spend", "--dispatch-url", dispatch_url, "--since", "yesterday")
    assert bad.exit_code == 2 and "not a day" in bad.output


async def test_spend_refuses_a_time_without_offset(dispatch_url: str) -> None:
    async with aiohttp.ClientSession() as session:
        async with session.get(f"{dispatch_url}/spend", params={"since": "2026-12-01T00:00"}) as r:
            assert r.status == 400 and "UTC offset" in (await r.json())["error"]
        async with session.get(f"{dispatch_url}/spend", params={"until": "soon"}) as r:
            assert r.status == 400 and "ISO 8601" in (await r.json())["error"]
