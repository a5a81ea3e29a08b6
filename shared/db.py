"""PostgreSQL plumbing: the asyncpg pool and plain-SQL migrations applied at start.

Each service keeps its migrations as `NNNN_name.sql` files in its own `migrations/` folder;
they are applied once, in order, under an advisory lock so replicas can start together.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import asyncpg

from shared import logs
from shared.errors import RetryableError, StartupError
from shared.settings import PostgresSettings

log = logs.get(__name__)

UNAVAILABLE: tuple[type[BaseException], ...] = (
    OSError,
    TimeoutError,
    asyncpg.PostgresConnectionError,
    asyncpg.TooManyConnectionsError,
    asyncpg.CannotConnectNowError,
    asyncpg.InterfaceError,
    asyncpg.DeadlockDetectedError,
)
"""What asyncpg raises when the server, not the statement, is the problem: worth a retry."""


class DatabaseUnavailable(RetryableError):
    """PostgreSQL cannot be reached right now; the same statement may succeed later."""


@contextmanager
def reachable(what: str, error: type[RetryableError] = DatabaseUnavailable) -> Iterator[None]:
    """Turn a lost or overloaded database inside the block into `error` ("<what> unavailable")."""
    try:
        yield
    except UNAVAILABLE as exc:
        raise error(f"{what} unavailable: {exc}") from exc


_LEDGER = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    service    text NOT NULL,
    version    text NOT NULL,
    checksum   text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (service, version)
)
"""


async def create_pool(settings: PostgresSettings) -> asyncpg.Pool:
    """A connection pool; an unreachable server raises StartupError with one clear reason."""
    try:
        pool: asyncpg.Pool = await asyncpg.create_pool(
            dsn=settings.url.get_secret_value(),
            min_size=settings.min_size,
            max_size=settings.max_size,
            timeout=settings.connect_timeout_s,
            reset=_released,
        )
    except (OSError, TimeoutError, asyncpg.CannotConnectNowError) as exc:
        raise StartupError(f"PostgreSQL is unreachable: {exc}") from exc
    return pool


async def _released(conn: asyncpg.Connection) -> None:
    """A connection back in the pool, without asyncpg's reset statement (a round trip on every
    release, half of a single query's cost): wagate keeps no session state on a pooled
    connection (no session `SET`, `LISTEN` or cursor; the migrations' advisory lock is released
    by the code that took it), so only a transaction left open is ended."""
    if conn.is_in_transaction():
        await conn.execute("ROLLBACK")


def _lock_id(service: str) -> int:
    return int.from_bytes(hashlib.sha256(f"wagate:{service}".encode()).digest()[:7], "big")


def _read_migrations(folder: Path) -> list[tuple[str, str]]:
    return [(path.stem, path.read_text()) for path in sorted(folder.glob("*.sql"))]


_MIGRATIONS_LOCK = _lock_id("migrations")


async def migrate(pool: asyncpg.Pool, service: str, folder: Path) -> list[str]:
    """Apply the service's pending migrations; returns the versions it applied."""
    applied: list[str] = []
    files = _read_migrations(folder)
    async with pool.acquire() as conn:
        # One lock for every service: the ledger table is shared, and CREATE TABLE IF NOT
        # EXISTS run by two sessions at once can still collide on the new type's name.
        await conn.execute("SELECT pg_advisory_lock($1)", _MIGRATIONS_LOCK)
        try:
            await conn.execute(_LEDGER)
            done = {
                r["version"]: r["checksum"]
                for r in await conn.fetch(
                    "SELECT version, checksum FROM schema_migrations WHERE service = $1", service
                )
            }
            for version, sql in files:
                checksum = hashlib.sha256(sql.encode()).hexdigest()
                if version in done:
                    if done[version] != checksum:
                        log.warning("migration changed after it was applied", version=version)
                    continue
                async with conn.transaction():
                    await conn.execute(sql)
                    await conn.execute(
                        "INSERT INTO schema_migrations (service, version, checksum)"
                        " VALUES ($1, $2, $3)",
                        service,
                        version,
                        checksum,
                    )
                applied.append(version)
        finally:
            await conn.execute("SELECT pg_advisory_unlock($1)", _MIGRATIONS_LOCK)
    if applied:
        log.info("migrations applied", service=service, versions=applied)
    return applied
