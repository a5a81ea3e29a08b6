"""The media cache on PostgreSQL: one row per number and content, replaced on re-upload."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from services.dispatch.app import MIGRATIONS
from services.dispatch.media import PostgresMediaCache, Upload
from shared import db
from shared.settings import PostgresSettings

pytestmark = pytest.mark.postgres


async def test_the_cache_keeps_and_replaces_a_numbers_upload(fresh_database: str) -> None:
    pool = await db.create_pool(PostgresSettings(url=fresh_database))
    try:
        await db.migrate(pool, "dispatch", Path(MIGRATIONS))
        cache = PostgresMediaCache(pool)
        at = datetime(2026, 3, 1, tzinfo=UTC)
        first = Upload("1", "a" * 64, "m1", "image/png", 10, "r.png", at, at + timedelta(days=30))
        await cache.keep(first)
        assert await cache.find("1", "a" * 64) == first
        assert await cache.find("2", "a" * 64) is None
        later = Upload("1", "a" * 64, "m2", "image/png", 10, None, at, at + timedelta(days=60))
        await cache.keep(later)
        found = await cache.find("1", "a" * 64)
        assert found is not None and (found.media_id, found.expires_at) == ("m2", later.expires_at)
    finally:
        await pool.close()
