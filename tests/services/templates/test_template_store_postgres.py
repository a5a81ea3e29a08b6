"""Templates' SQL on a real PostgreSQL: a row per template-language, a history row per change,
and a lost database answered as StoreUnavailable (retryable)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime

import asyncpg
import pytest
from pydantic import SecretStr

from services.templates.app import MIGRATIONS
from services.templates.errors import StoreUnavailable, TemplateExists
from services.templates.records import Key, TemplateRecord
from services.templates.store import TemplateStore
from shared import db
from shared.settings import PostgresSettings

pytestmark = pytest.mark.postgres
RECORD = TemplateRecord(
    "102290129340398",
    "shipping_update",
    "en_US",
    "UTILITY",
    components=[{"type": "BODY", "text": "Your order has shipped."}],
)


@pytest.fixture
async def pool(fresh_database: str) -> AsyncIterator[asyncpg.Pool]:
    pool = await db.create_pool(PostgresSettings(url=SecretStr(fresh_database)))
    await db.migrate(pool, "templates", MIGRATIONS)
    try:
        yield pool
    finally:
        await pool.close()


async def test_a_key_is_stored_once_until_it_is_deleted(pool: asyncpg.Pool) -> None:
    store = TemplateStore(pool)
    first = await store.insert(RECORD, "api")
    assert (first.version, first.status) == (1, "DRAFT") and first.created_at is not None
    with pytest.raises(TemplateExists):
        await store.insert(RECORD, "api")
    await store.change(first.key, lambda _: {"status": "DELETED"}, "deleted", "api")
    again = await store.insert(replace(RECORD, category="MARKETING"), "api")
    assert (again.version, again.status, again.category) == (3, "DRAFT", "MARKETING")
    changes = [h["change"] for h in await store.history(first.key)]
    assert changes == ["created", "deleted", "created"]


async def test_a_change_that_changes_nothing_writes_nothing(pool: asyncpg.Pool) -> None:
    store = TemplateStore(pool)
    stored = await store.insert(RECORD, "api")
    after, changed = await store.change(stored.key, lambda _: {"status": "DRAFT"}, "x", "test")
    assert not changed and after == stored
    assert len(await store.history(stored.key)) == 1
    missing, changed = await store.change(Key("1", "none", "en"), lambda _: {}, "x", "test")
    assert (missing, changed) == (None, False)


async def test_publishing_is_tracked_by_version(pool: asyncpg.Pool) -> None:
    store = TemplateStore(pool)
    stored = await store.insert(RECORD, "api")
    assert [r.key for r in await store.unpublished()] == [stored.key]
    await store.mark_published(stored.key, stored.version)
    assert await store.unpublished() == []
    await store.change(stored.key, lambda _: {"status": "PENDING"}, "submitted", "api")
    assert [r.version for r in await store.unpublished()] == [2]


async def test_drafts_are_found_by_the_start_of_their_error(pool: asyncpg.Pool) -> None:
    store = TemplateStore(pool)
    await store.insert(replace(RECORD, last_error="unavailable: down"), "api")
    await store.insert(replace(RECORD, name="other", last_error="Cloud API error 100"), "api")
    assert [r.name for r in await store.drafts_failed_with("unavailable: ")] == ["shipping_update"]


async def test_counts_look_back_from_a_moment(pool: asyncpg.Pool) -> None:
    store = TemplateStore(pool)
    stored = await store.insert(RECORD, "api")
    past = datetime(2000, 1, 1, tzinfo=UTC)
    future = datetime(2100, 1, 1, tzinfo=UTC)
    assert await store.count_created(RECORD.waba_id, past) == 1
    assert await store.count_created(RECORD.waba_id, future) == 0
    assert await store.count_changes(stored.key, "created", past) == 1
    assert await store.count_changes(stored.key, "edited", past) == 0


async def test_fallbacks_are_stored_per_name(pool: asyncpg.Pool) -> None:
    store = TemplateStore(pool)
    assert await store.fallbacks(RECORD.waba_id, RECORD.name) == ()
    await store.set_fallbacks(RECORD.waba_id, RECORD.name, ["pt_BR", "en"])
    await store.set_fallbacks(RECORD.waba_id, RECORD.name, ["pt_BR", "pt", "en"])
    assert await store.fallbacks(RECORD.waba_id, RECORD.name) == ("pt_BR", "pt", "en")


async def test_a_lost_database_is_store_unavailable(pool: asyncpg.Pool) -> None:
    store = TemplateStore(pool)
    await pool.close()
    with pytest.raises(StoreUnavailable, match="template store unavailable"):
        await store.get(RECORD.key)
    with pytest.raises(StoreUnavailable):
        await store.find()
    with pytest.raises(StoreUnavailable):
        await store.insert(RECORD, "api")
    with pytest.raises(StoreUnavailable):
        await store.change(RECORD.key, lambda _: {"status": "DELETED"}, "deleted", "api")
