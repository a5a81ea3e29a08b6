"""Migrations against a real PostgreSQL: applied once, in order, and recorded."""

from __future__ import annotations

from pathlib import Path

import asyncpg
import pytest

from shared import db
from shared.errors import StartupError
from shared.settings import PostgresSettings

pytestmark = pytest.mark.postgres


async def test_migrations_apply_once_in_order(fresh_database: str, tmp_path: Path) -> None:
    (tmp_path / "0001_first.sql").write_text("CREATE TABLE things (id int PRIMARY KEY);")
    (tmp_path / "0002_second.sql").write_text("ALTER TABLE things ADD COLUMN name text;")
    pool = await db.create_pool(PostgresSettings(url=fresh_database))  # type: ignore[arg-type]
    try:
        assert await db.migrate(pool, "svc", tmp_path) == ["0001_first", "0002_second"]
        assert await db.migrate(pool, "svc", tmp_path) == []
        (tmp_path / "0003_third.sql").write_text("INSERT INTO things VALUES (1, 'one');")
        assert await db.migrate(pool, "svc", tmp_path) == ["0003_third"]
        assert await pool.fetchval("SELECT name FROM things WHERE id = 1") == "one"
        versions = await pool.fetch(
            "SELECT version FROM schema_migrations WHERE service = 'svc' ORDER BY version"
        )
        assert [r["version"] for r in versions] == ["0001_first", "0002_second", "0003_third"]
    finally:
        await pool.close()


async def test_failed_migration_leaves_nothing_half_applied(
    fresh_database: str, tmp_path: Path
) -> None:
    (tmp_path / "0001_bad.sql").write_text("CREATE TABLE a (id int); SELECT * FROM missing;")
    pool = await db.create_pool(PostgresSettings(url=fresh_database))  # type: ignore[arg-type]
    try:
        with pytest.raises(asyncpg.UndefinedTableError):
            await db.migrate(pool, "svc", tmp_path)
        assert await pool.fetchval("SELECT to_regclass('a')") is None
    finally:
        await pool.close()


async def test_unreachable_server_is_a_startup_error() -> None:
    settings = PostgresSettings(
        url="postgresql://wagate:wagate@127.0.0.1:1/none",  # type: ignore[arg-type]
        connect_timeout_s=2,
    )
    with pytest.raises(StartupError, match="PostgreSQL is unreachable"):
        await db.create_pool(settings)


async def test_services_migrating_at_once_on_a_new_database_do_not_collide(
    fresh_database: str, tmp_path: Path
) -> None:
    import asyncio

    folders = []
    for n in range(4):
        folder = tmp_path / f"svc{n}"
        folder.mkdir()
        (folder / "0001_init.sql").write_text(f"CREATE TABLE t{n} (id int);")
        folders.append(folder)
    pools = [await db.create_pool(PostgresSettings(url=fresh_database)) for _ in folders]  # type: ignore[arg-type]
    try:
        results = await asyncio.gather(
            *(
                db.migrate(pool, f"svc{n}", folder)
                for n, (pool, folder) in enumerate(zip(pools, folders, strict=True))
            )
        )
    finally:
        for pool in pools:
            await pool.close()
    assert results == [["0001_init"]] * 4


async def test_a_released_connection_costs_no_statement_and_ends_an_open_transaction(
    fresh_database: str,
) -> None:
    pool = await db.create_pool(PostgresSettings(url=fresh_database, max_size=1))  # type: ignore[arg-type]
    sent: list[str] = []
    try:
        await pool.execute("CREATE TABLE t (n int)")
        async with pool.acquire() as conn:
            conn.add_query_logger(lambda query: sent.append(query.query))
            await conn.execute("INSERT INTO t VALUES (1)")
        assert sent == ["INSERT INTO t VALUES (1)"]  # and nothing on release
        conn = await pool.acquire()
        await conn.execute("BEGIN")
        await conn.execute("INSERT INTO t VALUES (2)")
        await pool.release(conn)  # left inside its transaction: rolled back
        async with pool.acquire() as again:
            assert not again.is_in_transaction()
            assert await again.fetchval("SELECT array_agg(n) FROM t") == [1]
    finally:
        await pool.close()
